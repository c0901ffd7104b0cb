"""Sending mail with Flask-Mail, from a background thread."""
from threading import Thread

from flask import current_app, render_template
from flask_mail import Message

from . import mail


def _send_async_email(app, msg):
    with app.app_context():
        try:
            mail.send(msg)
        except Exception:
            app.logger.exception('could not send mail to %s', msg.recipients)


def send_email(to, subject, template, **kwargs):
    """Render ``template``.txt/.html and send it to ``to`` in a thread.

    Returns the thread, so that a caller (a test) may wait for it.
    """
    app = current_app._get_current_object()
    msg = Message(app.config['FLASKY_MAIL_SUBJECT_PREFIX'] + ' ' + subject,
                  sender=app.config['FLASKY_MAIL_SENDER'], recipients=[to])
    msg.body = render_template(template + '.txt', **kwargs)
    msg.html = render_template(template + '.html', **kwargs)
    thread = Thread(target=_send_async_email, args=(app, msg), daemon=True)
    thread.start()
    return thread
