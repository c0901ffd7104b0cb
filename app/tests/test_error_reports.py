"""Production error reports: a real SMTP server on 127.0.0.1 gets the mail.
Also the self-test route and its token."""
import re

import pytest

from flasky.ops import make_selftest_token, selftest_token_valid
from tests.conftest import ADMIN, csrf_token


def test_unhandled_exception_is_mailed_to_admin(make_app, smtp_server):
    app = make_app('production', FLASKY_RELEASE='r42')
    app.add_url_rule('/boom', 'boom', lambda: 1 / 0)
    r = app.test_client().get('/boom')
    assert r.status_code == 500
    messages = smtp_server.wait(1)
    assert len(messages) == 1
    m = messages[0]
    assert m['to'] == [ADMIN]
    msg = m['message']
    assert msg['Subject'] == '[Flasky] Application Error'
    body = msg.get_content()
    assert 'ZeroDivisionError' in body
    assert 'Exception on /boom [GET]' in body
    assert 'release r42' in body


def test_no_mail_below_error(make_app, smtp_server):
    app = make_app('production')
    app.logger.warning('just a warning')
    app.logger.error('an error')
    messages = smtp_server.wait(1)
    import time
    time.sleep(0.3)
    assert len(messages) == 1
    assert 'an error' in messages[0]['message'].get_content()


def test_testing_config_sends_no_error_mail(make_app, smtp_server):
    make_app('production')  # installs the mail handler on the shared logger
    app = make_app('testing')  # ... which a non-production app removes
    app.logger.error('not mailed')
    import time
    time.sleep(0.5)
    assert smtp_server.messages == []


def test_selftest_route_is_hidden_without_token(make_app, smtp_server):
    app = make_app('production')
    client = app.test_client()
    assert client.get('/_selftest/error').status_code == 404
    assert client.get('/_selftest/error?token=bogus').status_code == 404
    other = make_selftest_token(app).replace('.', '.x', 1)
    assert client.get('/_selftest/error?token=' + other).status_code == 404
    import time
    time.sleep(0.3)
    assert smtp_server.messages == []


def test_selftest_token_from_another_key_is_rejected(make_app):
    app = make_app('production')
    token = make_selftest_token(app)
    app.config['SECRET_KEY'] = 'another-key'
    assert app.test_client().get(
        '/_selftest/error?token=' + token).status_code == 404


def test_selftest_token_expires(make_app):
    app = make_app('production')
    with app.test_request_context():
        token = make_selftest_token(app)
        assert selftest_token_valid(token)
        assert not selftest_token_valid(token, max_age=-1)


@pytest.mark.parametrize('how', ['query', 'header'])
def test_selftest_error_mails_admin(make_app, smtp_server, how):
    app = make_app('production')
    result = app.test_cli_runner().invoke(args=['selftest-token'])
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    client = app.test_client()
    if how == 'query':
        r = client.get('/_selftest/error?token=' + token)
    else:
        r = client.get('/_selftest/error',
                       headers={'X-Selftest-Token': token})
    assert r.status_code == 500
    assert 'Internal Server Error' in r.get_data(as_text=True)
    messages = smtp_server.wait(1)
    assert len(messages) == 1
    assert messages[0]['to'] == [ADMIN]
    body = messages[0]['message'].get_content()
    assert 'SelfTestError' in body
    assert 'error reports work' in body


def test_registration_mail_through_real_smtp_behind_proxy(make_app,
                                                          smtp_server):
    """Production config: CSRF on, ProxyFix builds https links."""
    app = make_app('production')
    client = app.test_client()
    proxy = {'X-Forwarded-Proto': 'https',
             'X-Forwarded-Host': 'flasky.example.org',
             'X-Forwarded-For': '203.0.113.9'}
    page = client.get('/auth/register', headers=proxy).get_data(as_text=True)
    # Flask-WTF checks the Referer on https requests; browsers send it for
    # same-origin posts (nginx's Referrer-Policy sends it to the same origin).
    posted = dict(proxy, Referer='https://flasky.example.org/auth/register')
    r = client.post('/auth/register', headers=posted, data={
        'csrf_token': csrf_token(page), 'email': 'susan@example.org',
        'username': 'susan', 'password': 'dog', 'password2': 'dog'})
    assert r.status_code == 302
    assert r.headers['Location'] in (
        '/auth/login', 'https://flasky.example.org/auth/login')
    messages = smtp_server.wait(1)
    assert len(messages) == 1
    assert messages[0]['to'] == ['susan@example.org']
    msg = messages[0]['message']
    assert msg['Subject'] == '[Flasky] Confirm Your Account'
    text_part = msg.get_body(preferencelist=('plain',)).get_content()
    assert re.search(r'https://flasky\.example\.org/auth/confirm/\S+',
                     text_part), text_part


def test_registration_without_csrf_token_is_refused(make_app, smtp_server):
    app = make_app('production')
    r = app.test_client().post('/auth/register', data={
        'email': 'susan@example.org', 'username': 'susan',
        'password': 'dog', 'password2': 'dog'})
    assert r.status_code == 400
