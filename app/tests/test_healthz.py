"""/healthz: 200 at head (or ahead, after a rollback), 503 when behind, not migrated or unreachable."""
import socket

from sqlalchemy import text

from flasky import db

HEAD = '0002_user_profile'
KEYS = {'status', 'database', 'migration', 'at_head', 'schema', 'release', 'host', 'client'}
WHO = {'host': socket.gethostname(), 'client': '127.0.0.1'}


def test_healthz_ok_at_head(make_app):
    app = make_app('production', FLASKY_RELEASE='20250101T120000-abc123')
    r = app.test_client().get('/healthz')
    assert r.status_code == 200
    assert r.get_json() == {'status': 'ok', 'database': True,
                            'migration': HEAD, 'at_head': True,
                            'schema': 'head',
                            'release': '20250101T120000-abc123', **WHO}
    assert r.headers['Cache-Control'] == 'no-store'
    assert 'Set-Cookie' not in r.headers


def test_healthz_release_defaults_to_unknown(app):
    assert app.test_client().get('/healthz').get_json()['release'] == 'unknown'


def test_healthz_fails_when_never_migrated(make_app):
    app = make_app('production', migrate=False)
    r = app.test_client().get('/healthz')
    assert r.status_code == 503
    data = r.get_json()
    assert set(data) == KEYS
    assert data['status'] == 'fail'
    assert data['database'] is True
    assert data['migration'] is None
    assert data['at_head'] is False


def test_healthz_fails_when_behind_head(make_app):
    app = make_app('testing', migrate=False)
    result = app.test_cli_runner().invoke(args=['db', 'upgrade',
                                                '0001_initial'])
    assert result.exit_code == 0, result.output
    r = app.test_client().get('/healthz')
    assert r.status_code == 503
    assert r.get_json()['migration'] == '0001_initial'
    assert r.get_json()['at_head'] is False


def test_healthz_fails_when_database_unreachable(make_app, tmp_path):
    url = 'sqlite:///' + str(tmp_path / 'no' / 'such' / 'dir' / 'x.db')
    app = make_app('production', migrate=False, DATABASE_URL=url)
    r = app.test_client().get('/healthz')
    assert r.status_code == 503
    assert r.get_json() == {'status': 'fail', 'database': False,
                            'migration': None, 'at_head': False,
                            'schema': 'unreachable', 'release': 'unknown', **WHO}


def test_healthz_uses_head_computed_at_startup(make_app):
    app = make_app('testing')
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
    db.session.commit()
    r = app.test_client().get('/healthz')
    assert r.status_code == 503
    assert r.get_json()['migration'] == '0001_initial'


def test_healthz_with_server_name_and_another_host(make_app):
    app = make_app('production', SERVER_NAME='flasky.example.org')
    assert app.config['SERVER_NAME'] == 'flasky.example.org'
    client = app.test_client()
    for host in ('127.0.0.1:8000', 'localhost', '10.1.2.3'):
        r = client.get('/healthz', headers={'Host': host})
        assert r.status_code == 200, host
        assert r.get_json()['status'] == 'ok'


def test_server_name_not_set_by_default(app):
    assert app.config.get('SERVER_NAME') is None


def test_healthz_needs_no_login(make_app):
    app = make_app('production')
    r = app.test_client().get('/healthz', follow_redirects=False)
    assert r.status_code == 200


def test_healthz_ok_when_schema_is_ahead_after_a_rollback(make_app):
    """A rolled-back release meets a schema stamped by a newer release."""
    app = make_app('testing')
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '9999_from_newer_release'"))
        db.session.commit()
    r = app.test_client().get('/healthz')
    assert r.status_code == 200
    data = r.get_json()
    assert data['schema'] == 'ahead'
    assert data['at_head'] is False
    assert data['migration'] == '9999_from_newer_release'


def test_healthz_reports_behind_as_behind(make_app):
    app = make_app('testing', migrate=False)
    app.test_cli_runner().invoke(args=['db', 'upgrade', '0001_initial'])
    assert app.test_client().get('/healthz').get_json()['schema'] == 'behind'


def test_healthz_names_the_client_behind_one_proxy(make_app):
    # Production trusts one proxy hop (nginx): the client is its X-Forwarded-For.
    app = make_app('production')
    r = app.test_client().get('/healthz', headers={'X-Forwarded-For': '203.0.113.7'})
    assert r.get_json()['client'] == '203.0.113.7'
    assert r.get_json()['host'] == socket.gethostname()
