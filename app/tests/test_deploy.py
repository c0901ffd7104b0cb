"""`flask deploy` and `flask migration-status`: JSON last line, idempotence."""
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, text

from flasky import db
from flasky.models import Follow, Role, User
from tests.conftest import APP_DIR, make_user

HEAD = '0002_user_profile'


def last_json(stdout):
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, 'no output'
    return json.loads(lines[-1])


def deploy(app):
    result = app.test_cli_runner().invoke(args=['deploy'])
    return result, last_json(result.stdout)


def test_deploy_twice_on_fresh_database(make_app):
    app = make_app('testing', migrate=False)
    result, data = deploy(app)
    assert result.exit_code == 0, result.output
    assert data == {'changed': True, 'migrated': True, 'migration_due': False,
                    'migrated_from': None, 'head': HEAD, 'roles_changed': 3,
                    'self_follows_added': 0}
    result, data = deploy(app)
    assert result.exit_code == 0, result.output
    assert data == {'changed': False, 'migrated': False,
                    'migration_due': False, 'migrated_from': HEAD,
                    'head': HEAD, 'roles_changed': 0, 'self_follows_added': 0}


def test_deploy_upgrades_from_previous_revision(make_app):
    app = make_app('testing', migrate=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=['db', 'upgrade', '0001_initial'])
    assert result.exit_code == 0, result.output
    # The previous release wrote users without any self-follow.
    db.session.execute(text(
        "INSERT INTO users (email, username, confirmed) "
        "VALUES ('old@example.org', 'old', :t)"), {'t': True})
    db.session.commit()

    status = last_json(runner.invoke(args=['migration-status']).stdout)
    assert status == {'current': '0001_initial', 'head': HEAD,
                      'at_head': False}

    result, data = deploy(app)
    assert result.exit_code == 0, result.output
    assert data['changed'] is True
    assert data['migrated'] is True
    assert data['migrated_from'] == '0001_initial'
    assert data['self_follows_added'] == 1
    old = db.session.scalar(select(User).filter_by(username='old'))
    assert old.is_following(old)
    assert old.about_me is None  # the new column exists, empty

    status = last_json(runner.invoke(args=['migration-status']).stdout)
    assert status == {'current': HEAD, 'head': HEAD, 'at_head': True}
    assert deploy(app)[1]['changed'] is False


def test_deploy_if_at_head_touches_nothing_when_a_migration_is_due(make_app):
    """--if-at-head (the deploy's single CLI run when no migration is due):
    behind head it changes nothing and says so; at head it does the work."""
    app = make_app('testing', migrate=False)
    runner = app.test_cli_runner()
    assert runner.invoke(args=['db', 'upgrade', '0001_initial']).exit_code == 0
    db.session.execute(text(
        "INSERT INTO users (email, username, confirmed) "
        "VALUES ('old@example.org', 'old', :t)"), {'t': True})
    db.session.commit()

    result = runner.invoke(args=['deploy', '--if-at-head'])
    assert result.exit_code == 0, result.output
    data = last_json(result.stdout)
    assert data == {'changed': False, 'migrated': False, 'migration_due': True,
                    'migrated_from': '0001_initial', 'head': HEAD,
                    'roles_changed': 0, 'self_follows_added': 0}
    # Nothing was written: same revision, no roles, no self-follow.
    status = last_json(runner.invoke(args=['migration-status']).stdout)
    assert status['current'] == '0001_initial'
    assert db.session.scalar(select(Role).limit(1)) is None

    assert deploy(app)[1]['migrated'] is True
    make_user()
    db.session.execute(delete(Follow))
    db.session.commit()
    result = runner.invoke(args=['deploy', '--if-at-head'])
    assert result.exit_code == 0, result.output
    data = last_json(result.stdout)
    assert data['migration_due'] is False and data['changed'] is True
    assert data['self_follows_added'] == 2  # 'old' and the new user


def test_deploy_if_at_head_migrates_a_database_without_a_schema(make_app):
    """A new, empty database has nothing to dump: --if-at-head does the
    whole deploy in its one run (the first deploy of a new host)."""
    app = make_app('testing', migrate=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=['deploy', '--if-at-head'])
    assert result.exit_code == 0, result.output
    data = last_json(result.stdout)
    assert data['migration_due'] is False and data['migrated'] is True, data
    assert data['migrated_from'] is None and data['changed'] is True, data
    assert db.session.scalar(select(Role).limit(1)) is not None
    status = last_json(runner.invoke(args=['migration-status']).stdout)
    assert status == {'current': HEAD, 'head': HEAD, 'at_head': True}


def test_deploy_repairs_roles_and_self_follows(make_app):
    app = make_app('testing', migrate=False)
    deploy(app)
    make_user()
    db.session.execute(delete(Follow))
    db.session.execute(delete(Role).where(Role.name == 'Moderator'))
    db.session.commit()
    result, data = deploy(app)
    assert data['changed'] is True and data['migrated'] is False
    assert data['roles_changed'] == 1
    assert data['self_follows_added'] == 1
    assert deploy(app)[1]['changed'] is False


def test_expand_migration_keeps_previous_release_working(make_app):
    """After 0002, the code of the 0001 release can still insert users."""
    make_app('testing')  # upgraded to head
    db.session.execute(text(
        "INSERT INTO users (email, username, role_id, password_hash, "
        "confirmed) VALUES ('a@example.org', 'a', NULL, 'x', :f)"),
        {'f': False})
    db.session.commit()
    assert db.session.scalar(select(User).filter_by(username='a')) is not None


def test_models_match_migrations(make_app):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    make_app('testing')
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_revision_chain_is_linear():
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option('script_location', os.path.join(APP_DIR,
                                                        'migrations'))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [HEAD]
    revs = [r.revision for r in script.walk_revisions()]
    assert revs == [HEAD, '0001_initial']


def test_deploy_fails_with_nonzero_exit(make_app, tmp_path):
    app = make_app('testing', migrate=False, TEST_DATABASE_URL='sqlite:///'
                   + str(tmp_path / 'missing' / 'dir' / 'x.db'))
    result = app.test_cli_runner().invoke(args=['deploy'])
    assert result.exit_code == 1
    data = last_json(result.stdout)
    assert data['failed'] is True
    assert data['changed'] is False
    assert 'error' in data


def test_migration_status_unreachable_database(make_app, tmp_path):
    app = make_app('testing', migrate=False, TEST_DATABASE_URL='sqlite:///'
                   + str(tmp_path / 'missing' / 'x.db'))
    result = app.test_cli_runner().invoke(args=['migration-status'])
    assert result.exit_code == 1
    assert last_json(result.stdout)['at_head'] is False


def _flask(args, env):
    return subprocess.run(
        [sys.executable, '-m', 'flask'] + args, cwd=APP_DIR, env=env,
        capture_output=True, text=True, timeout=120)


def test_flask_cli_deploy_in_production_config(tmp_path):
    """The real command line: FLASK_APP=flasky.py, production config."""
    env = {k: v for k, v in os.environ.items()}
    env.update(FLASK_APP='flasky.py', FLASK_CONFIG='production',
               SECRET_KEY='x', DATABASE_URL='sqlite:///'
               + str(tmp_path / 'prod.db'), FLASK_SKIP_DOTENV='1')
    first = _flask(['deploy'], env)
    assert first.returncode == 0, first.stderr
    assert last_json(first.stdout)['changed'] is True
    second = _flask(['deploy'], env)
    assert second.returncode == 0, second.stderr
    assert last_json(second.stdout)['changed'] is False
    # Nothing but the JSON on stdout: alembic logs go to stderr.
    assert len(second.stdout.strip().splitlines()) == 1
    assert 'Running upgrade' in first.stderr


def test_flask_cli_refuses_production_without_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'SECRET_KEY'}
    env.update(FLASK_APP='flasky.py', FLASK_CONFIG='production',
               DATABASE_URL='sqlite:///' + str(tmp_path / 'prod.db'),
               FLASK_SKIP_DOTENV='1')
    result = _flask(['deploy'], env)
    assert result.returncode != 0
    assert 'SECRET_KEY is not set' in result.stderr
    assert not (tmp_path / 'prod.db').exists()


@pytest.mark.parametrize('command', ['deploy', 'migration-status',
                                     'selftest-token', 'selftest-log'])
def test_commands_are_registered(app, command):
    result = app.test_cli_runner().invoke(args=[command, '--help'])
    assert result.exit_code == 0, result.output


def test_deploy_refuses_unknown_revision(make_app):
    """A database migrated by a newer release is left alone (exit 1)."""
    app = make_app('testing')
    db.session.execute(text(
        "UPDATE alembic_version SET version_num = '0099_future'"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=['deploy'])
    assert result.exit_code == 1
    data = last_json(result.stdout)
    assert data['failed'] is True and data['changed'] is False
    assert 'does not know' in data['error']
    assert db.session.scalar(text(
        'SELECT version_num FROM alembic_version')) == '0099_future'
