"""The same migrations and deploy on PostgreSQL, when one is at hand.

Skipped unless FLASKY_TEST_POSTGRES_URL names a database; THAT DATABASE IS
WIPED (schema public dropped and re-created). Example:
FLASKY_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/flasky_test
"""
import json
import os

import pytest
from sqlalchemy import create_engine, text

from config import normalize_database_url
from flasky import db

PG_URL = os.environ.get('FLASKY_TEST_POSTGRES_URL')
pytestmark = pytest.mark.skipif(not PG_URL,
                                reason='FLASKY_TEST_POSTGRES_URL not set')
HEAD = '0002_user_profile'


@pytest.fixture
def pg_url():
    engine = create_engine(normalize_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text('DROP SCHEMA public CASCADE'))
        conn.execute(text('CREATE SCHEMA public'))
    engine.dispose()
    return PG_URL


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def test_deploy_on_postgresql(make_app, pg_url):
    app = make_app('production', migrate=False, DATABASE_URL=pg_url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=['db', 'upgrade', '0001_initial']).exit_code == 0
    db.session.execute(text(
        "INSERT INTO users (email, username, confirmed) "
        "VALUES ('old@example.org', 'old', true)"))
    db.session.commit()
    client = app.test_client()
    assert client.get('/healthz').status_code == 503

    first = runner.invoke(args=['deploy'])
    assert first.exit_code == 0, first.output
    data = last_json(first.stdout)
    assert data['changed'] is True and data['migrated_from'] == '0001_initial'
    assert data['self_follows_added'] == 1
    second = runner.invoke(args=['deploy'])
    assert last_json(second.stdout)['changed'] is False
    r = client.get('/healthz')
    assert r.status_code == 200 and r.get_json()['migration'] == HEAD


def test_models_match_migrations_on_postgresql(make_app, pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    make_app('production', DATABASE_URL=pg_url)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn),
                                db.metadata) == []


def test_downgrade_and_upgrade_on_postgresql(make_app, pg_url):
    app = make_app('production', DATABASE_URL=pg_url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=['db', 'downgrade', 'base']).exit_code == 0
    assert runner.invoke(args=['db', 'upgrade']).exit_code == 0
    status = last_json(runner.invoke(args=['migration-status']).stdout)
    assert status['at_head'] is True
