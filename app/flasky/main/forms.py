from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class PostForm(FlaskForm):
    body = TextAreaField("What's on your mind?",
                         validators=[DataRequired(), Length(1, 5000)])
    submit = SubmitField('Post')


class EditProfileForm(FlaskForm):
    name = StringField('Real name', validators=[Length(0, 64)])
    location = StringField('Location', validators=[Length(0, 64)])
    about_me = TextAreaField('About me', validators=[Length(0, 2000)])
    submit = SubmitField('Save')


class FollowForm(FlaskForm):
    """An empty form: only its CSRF token matters."""
    submit = SubmitField('Follow')
