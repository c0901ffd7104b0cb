from flask import (abort, current_app, flash, make_response, redirect,
                   render_template, request, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from . import main
from .forms import EditProfileForm, FollowForm, PostForm
from .. import db
from ..models import Permission, Post, User


def _get_user_or_404(username):
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        abort(404)
    return user


@main.route('/', methods=['GET', 'POST'])
def index():
    form = PostForm()
    if current_user.can(Permission.WRITE) and form.validate_on_submit():
        post = Post(body=form.body.data,
                    author=current_user._get_current_object())
        db.session.add(post)
        db.session.commit()
        flash('Your post has been published.')
        return redirect(url_for('.index'))
    page = request.args.get('page', 1, type=int)
    show_followed = False
    if current_user.is_authenticated:
        show_followed = bool(request.cookies.get('show_followed', ''))
    if show_followed:
        query = current_user.followed_posts
    else:
        query = select(Post)
    pagination = db.paginate(
        query.order_by(Post.timestamp.desc(), Post.id.desc()),
        page=page, per_page=current_app.config['FLASKY_POSTS_PER_PAGE'],
        error_out=False)
    return render_template('main/index.html', form=form,
                           posts=pagination.items, pagination=pagination,
                           show_followed=show_followed)


def _show_followed_cookie(value):
    resp = make_response(redirect(url_for('.index')))
    resp.set_cookie('show_followed', value, max_age=30 * 24 * 60 * 60,
                    httponly=True, samesite='Lax')
    return resp


@main.route('/all')
@login_required
def show_all():
    return _show_followed_cookie('')


@main.route('/followed')
@login_required
def show_followed():
    return _show_followed_cookie('1')


@main.route('/user/<username>')
def user(username):
    user = _get_user_or_404(username)
    page = request.args.get('page', 1, type=int)
    pagination = db.paginate(
        select(Post).filter_by(author_id=user.id)
        .order_by(Post.timestamp.desc(), Post.id.desc()),
        page=page, per_page=current_app.config['FLASKY_POSTS_PER_PAGE'],
        error_out=False)
    return render_template('main/user.html', user=user,
                           posts=pagination.items, pagination=pagination,
                           follow_form=FollowForm())


@main.route('/edit-profile', methods=['GET', 'POST'])
@login_required
def edit_profile():
    form = EditProfileForm()
    if form.validate_on_submit():
        current_user.name = form.name.data
        current_user.location = form.location.data
        current_user.about_me = form.about_me.data
        db.session.add(current_user._get_current_object())
        db.session.commit()
        flash('Your profile has been updated.')
        return redirect(url_for('.user', username=current_user.username))
    form.name.data = current_user.name
    form.location.data = current_user.location
    form.about_me.data = current_user.about_me
    return render_template('main/edit_profile.html', form=form)


@main.route('/follow/<username>', methods=['POST'])
@login_required
def follow(username):
    if not current_user.can(Permission.FOLLOW):
        abort(403)
    user = _get_user_or_404(username)
    if current_user.is_following(user):
        flash('You are already following this user.')
    else:
        current_user.follow(user)
        db.session.commit()
        flash(f'You are now following {user.username}.')
    return redirect(url_for('.user', username=username))


@main.route('/unfollow/<username>', methods=['POST'])
@login_required
def unfollow(username):
    if not current_user.can(Permission.FOLLOW):
        abort(403)
    user = _get_user_or_404(username)
    if user.id == current_user.id:
        flash('You cannot unfollow yourself.')
    elif not current_user.is_following(user):
        flash('You are not following this user.')
    else:
        current_user.unfollow(user)
        db.session.commit()
        flash(f'You are not following {user.username} anymore.')
    return redirect(url_for('.user', username=username))


@main.route('/followers/<username>')
def followers(username):
    user = _get_user_or_404(username)
    people = [f.follower for f in user.followers if f.follower_id != user.id]
    return render_template('main/follows.html', user=user, people=people,
                           title=f'Followers of {user.username}')


@main.route('/followed-by/<username>')
def followed_by(username):
    user = _get_user_or_404(username)
    people = [f.followed for f in user.followed if f.followed_id != user.id]
    return render_template('main/follows.html', user=user, people=people,
                           title=f'Followed by {user.username}')
