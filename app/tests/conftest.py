"""Shared fixtures: isolated environment, apps on SQLite files, a real SMTP
server (aiosmtpd) and a unix-datagram "syslog" socket."""
import email
import email.policy
import os
import re
import shutil
import socket
import sys
import tempfile
import time

import pytest

APP_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)

from aiosmtpd.controller import Controller  # noqa: E402

from flasky import create_app, db  # noqa: E402

#: Every variable the app reads: cleared for each test, so neither the
#: developer's environment nor app/.env changes what a test sees.
APP_ENV_VARS = [
    'FLASK_CONFIG', 'SECRET_KEY', 'DATABASE_URL', 'DEV_DATABASE_URL',
    'TEST_DATABASE_URL', 'MAIL_SERVER', 'MAIL_PORT', 'MAIL_USE_TLS',
    'MAIL_USERNAME', 'MAIL_PASSWORD', 'FLASKY_MAIL_SENDER',
    'FLASKY_MAIL_SUBJECT_PREFIX', 'FLASKY_ADMIN', 'FLASKY_POSTS_PER_PAGE',
    'FLASKY_RELEASE', 'SYSLOG_IDENT', 'SYSLOG_ADDRESS', 'SERVER_NAME',
]

ADMIN = 'admin@example.org'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in APP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    # Nothing may reach a real syslog or mail server by accident.
    monkeypatch.setenv('SYSLOG_ADDRESS', '/nonexistent/flasky-test-log')
    monkeypatch.setenv('MAIL_SERVER', '127.0.0.1')
    monkeypatch.setenv('MAIL_PORT', '9')
    yield


@pytest.fixture
def db_url(tmp_path):
    return 'sqlite:///' + str(tmp_path / 'test.db')


@pytest.fixture
def make_app(monkeypatch, db_url):
    """make_app(config_name, migrate=True, **env) -> app (context pushed)."""
    contexts = []

    def factory(config_name='testing', migrate=True, **env):
        env.setdefault('TEST_DATABASE_URL', db_url)
        env.setdefault('DATABASE_URL', db_url)
        env.setdefault('FLASKY_ADMIN', ADMIN)
        if config_name in ('production', 'unix'):
            env.setdefault('SECRET_KEY', 'test-secret')
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        app = create_app(config_name)
        ctx = app.app_context()
        ctx.push()
        contexts.append(ctx)
        if migrate:
            from flask_migrate import upgrade
            upgrade()
            from flasky.models import Role
            Role.insert_roles()
        return app

    yield factory
    for ctx in reversed(contexts):
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def app(make_app):
    return make_app('testing')


@pytest.fixture
def client(app):
    return app.test_client()


def make_user(email='john@example.com', username='john', password='cat',
              confirmed=True, **kwargs):
    from flasky.models import User
    user = User(email=email, username=username, password=password,
                confirmed=confirmed, **kwargs)
    db.session.add(user)
    db.session.commit()
    return user


def login(client, email='john@example.com', password='cat'):
    return client.post('/auth/login', data={'email': email,
                                            'password': password},
                       follow_redirects=True)


def csrf_token(html):
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert m, 'no CSRF token in the page'
    return m.group(1)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --- a real SMTP server --------------------------------------------------

class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content,
                                       policy=email.policy.default)
        self.messages.append({'from': envelope.mail_from,
                              'to': list(envelope.rcpt_tos),
                              'message': msg})
        return '250 Message accepted'


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self, controller, collector):
        self.controller = controller
        self.collector = collector
        self.host = controller.hostname
        self.port = controller.port

    @property
    def messages(self):
        return self.collector.messages

    def wait(self, count=1, timeout=10.0):
        wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages


@pytest.fixture
def smtp_server(monkeypatch):
    collector = _Collector()
    controller = Controller(collector, hostname='127.0.0.1', port=free_port())
    controller.start()
    monkeypatch.setenv('MAIL_SERVER', '127.0.0.1')
    monkeypatch.setenv('MAIL_PORT', str(controller.port))
    try:
        yield SMTPServer(controller, collector)
    finally:
        controller.stop()


# --- a unix datagram socket standing in for /dev/log ----------------------

@pytest.fixture
def syslog_socket(monkeypatch):
    # Short path: unix socket paths are limited to about 100 bytes.
    directory = tempfile.mkdtemp(prefix='flsk')
    path = os.path.join(directory, 'log')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    monkeypatch.setenv('SYSLOG_ADDRESS', path)
    try:
        yield sock
    finally:
        sock.close()
        shutil.rmtree(directory, ignore_errors=True)
