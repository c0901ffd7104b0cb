"""Configuration: environment only, .env file, SECRET_KEY, proxy, URLs."""
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module
from config import ConfigError, normalize_database_url
from flasky import create_app


@pytest.mark.parametrize('name', ['production', 'unix'])
def test_production_refuses_to_start_without_secret_key(name, db_url,
                                                        monkeypatch):
    monkeypatch.setenv('DATABASE_URL', db_url)
    with pytest.raises(ConfigError, match='SECRET_KEY is not set'):
        create_app(name)


@pytest.mark.parametrize('name', ['production', 'unix'])
def test_production_login_cookies_are_secure_httponly_and_lax(
        name, db_url, monkeypatch):
    monkeypatch.setenv('SECRET_KEY', 's3cret')
    monkeypatch.setenv('DATABASE_URL', db_url)
    cfg = create_app(name).config
    for cookie in ('SESSION_COOKIE', 'REMEMBER_COOKIE'):
        assert cfg[f'{cookie}_SECURE'] is True, cookie
        assert cfg[f'{cookie}_HTTPONLY'] is True, cookie
        assert cfg[f'{cookie}_SAMESITE'] == 'Lax', cookie


def test_development_starts_without_secret_key(monkeypatch, db_url):
    monkeypatch.setenv('DEV_DATABASE_URL', db_url)
    app = create_app('development')
    assert app.config['SECRET_KEY']
    assert app.debug


def test_flask_config_selects_the_config(monkeypatch, db_url):
    monkeypatch.setenv('FLASK_CONFIG', 'testing')
    monkeypatch.setenv('TEST_DATABASE_URL', db_url)
    app = create_app()
    assert app.testing
    assert app.config['FLASKY_CONFIG_NAME'] == 'testing'


def test_unknown_config_name():
    with pytest.raises(ValueError, match='unknown configuration'):
        create_app('staging')


def test_settings_come_from_environment(monkeypatch, db_url):
    monkeypatch.setenv('SECRET_KEY', 's3cret')
    monkeypatch.setenv('DATABASE_URL', db_url)
    monkeypatch.setenv('MAIL_SERVER', 'mail.example.org')
    monkeypatch.setenv('MAIL_PORT', '587')
    monkeypatch.setenv('MAIL_USE_TLS', 'true')
    monkeypatch.setenv('FLASKY_POSTS_PER_PAGE', '7')
    monkeypatch.setenv('FLASKY_MAIL_SUBJECT_PREFIX', '[Test]')
    app = create_app('production')
    c = app.config
    assert c['SECRET_KEY'] == 's3cret'
    assert c['SQLALCHEMY_DATABASE_URI'] == db_url
    assert (c['MAIL_SERVER'], c['MAIL_PORT']) == ('mail.example.org', 587)
    assert c['MAIL_USE_TLS'] is True
    assert c['FLASKY_POSTS_PER_PAGE'] == 7
    assert c['FLASKY_MAIL_SUBJECT_PREFIX'] == '[Test]'
    assert not app.debug and not app.testing


def test_defaults(monkeypatch, db_url):
    monkeypatch.delenv('MAIL_SERVER')
    monkeypatch.delenv('MAIL_PORT')
    monkeypatch.setenv('TEST_DATABASE_URL', db_url)
    c = create_app('testing').config
    assert (c['MAIL_SERVER'], c['MAIL_PORT']) == ('localhost', 25)
    assert c['MAIL_USE_TLS'] is False
    assert c['FLASKY_POSTS_PER_PAGE'] == 20
    assert c['FLASKY_RELEASE'] == 'unknown'
    assert c['SYSLOG_IDENT'] == 'flasky'


def test_bad_integer_is_a_clear_error(monkeypatch, db_url):
    monkeypatch.setenv('TEST_DATABASE_URL', db_url)
    monkeypatch.setenv('MAIL_PORT', 'twenty-five')
    with pytest.raises(ConfigError, match='MAIL_PORT'):
        create_app('testing')


def test_env_file_does_not_override_real_environment(tmp_path, monkeypatch):
    env_file = tmp_path / '.env'
    env_file.write_text('FLASKY_TEST_A=from-file\nFLASKY_TEST_B=from-file\n')
    monkeypatch.setenv('FLASKY_TEST_A', 'from-env')
    monkeypatch.delenv('FLASKY_TEST_B', raising=False)
    config_module.load_env_file(str(env_file))
    import os
    try:
        assert os.environ['FLASKY_TEST_A'] == 'from-env'
        assert os.environ['FLASKY_TEST_B'] == 'from-file'
    finally:
        os.environ.pop('FLASKY_TEST_B', None)


def test_env_file_is_next_to_flasky_py():
    import os
    assert config_module.DOTENV_PATH == os.path.join(
        config_module.basedir, '.env')
    assert os.path.exists(os.path.join(config_module.basedir, 'flasky.py'))


@pytest.mark.parametrize('url,expected', [
    ('postgres://u:p@db/flasky', 'postgresql+psycopg://u:p@db/flasky'),
    ('postgresql://u:p@db/flasky', 'postgresql+psycopg://u:p@db/flasky'),
    ('postgresql+psycopg2://u@db/f', 'postgresql+psycopg2://u@db/f'),
    ('sqlite:////tmp/x.db', 'sqlite:////tmp/x.db'),
])
def test_database_url_driver(url, expected):
    assert normalize_database_url(url) == expected


def test_postgresql_engine_options(monkeypatch):
    monkeypatch.setenv('SECRET_KEY', 'x')
    monkeypatch.setenv('DATABASE_URL', 'postgresql://u:p@localhost/flasky')
    app = create_app('production')
    opts = app.config['SQLALCHEMY_ENGINE_OPTIONS']
    assert opts['connect_args'] == {'connect_timeout': 5}
    assert app.config['SQLALCHEMY_DATABASE_URI'].startswith(
        'postgresql+psycopg://')


def test_proxy_fix_only_behind_proxy(monkeypatch, db_url):
    monkeypatch.setenv('SECRET_KEY', 'x')
    monkeypatch.setenv('DATABASE_URL', db_url)
    monkeypatch.setenv('DEV_DATABASE_URL', db_url)
    prod = create_app('production')
    assert isinstance(prod.wsgi_app, ProxyFix)
    assert (prod.wsgi_app.x_for, prod.wsgi_app.x_proto,
            prod.wsgi_app.x_host) == (1, 1, 1)
    assert isinstance(create_app('unix').wsgi_app, ProxyFix)
    assert not isinstance(create_app('development').wsgi_app, ProxyFix)


def test_mail_handler_settings(monkeypatch, db_url):
    monkeypatch.setenv('SECRET_KEY', 'x')
    monkeypatch.setenv('DATABASE_URL', db_url)
    monkeypatch.setenv('FLASKY_ADMIN', 'root@example.org')
    app = create_app('production')
    [h] = [h for h in app.logger.handlers
           if getattr(h, 'flasky_tag', None) == 'mail']
    import logging
    assert h.level == logging.ERROR
    assert h.toaddrs == ['root@example.org']
    assert h.username is None and not h.use_tls
    monkeypatch.setenv('MAIL_USERNAME', 'bob')
    monkeypatch.setenv('MAIL_PASSWORD', 'pw')
    monkeypatch.setenv('MAIL_USE_TLS', '1')
    app = create_app('production')
    [h] = [h for h in app.logger.handlers
           if getattr(h, 'flasky_tag', None) == 'mail']
    assert (h.username, h.password, h.use_tls) == ('bob', 'pw', True)


def test_no_mail_handler_without_admin(monkeypatch, db_url, capfd):
    monkeypatch.setenv('SECRET_KEY', 'x')
    monkeypatch.setenv('DATABASE_URL', db_url)
    app = create_app('production')
    assert not [h for h in app.logger.handlers
                if getattr(h, 'flasky_tag', None) == 'mail']
    assert 'FLASKY_ADMIN is not set' in capfd.readouterr().err


def test_wsgi_module_exposes_app(monkeypatch, db_url):
    import importlib
    import sys
    monkeypatch.setenv('FLASK_CONFIG', 'testing')
    monkeypatch.setenv('TEST_DATABASE_URL', db_url)
    sys.modules.pop('wsgi', None)
    wsgi = importlib.import_module('wsgi')
    from flask import Flask
    assert isinstance(wsgi.app, Flask)
    assert wsgi.app.testing
