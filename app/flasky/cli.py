"""Commands for `flask` (FLASK_APP=flasky.py): deploy and friends.

Each command prints one JSON object as the last line of its standard output
so that Ansible can read it (``stdout_lines[-1] | from_json``).
"""
import json
import sys

import click
from flask import current_app
from flask_migrate import upgrade

from . import db
from .migration_state import current_revision, is_known_revision
from .models import Role, User
from .ops import SELFTEST_MAX_AGE, make_selftest_token


def _emit(data):
    click.echo(json.dumps(data, sort_keys=True))


def register_commands(app):
    @app.cli.command('deploy')
    @click.option('--if-at-head', is_flag=True,
                  help='Only when the database is at this release\'s head '
                       'already, or has no schema yet (nothing to dump); '
                       'otherwise change nothing and report '
                       '"migration_due": true (so a dump can come first).')
    def deploy(if_at_head):
        """Migrate to head, insert roles, add self-follows (idempotent).

        Last line of stdout: {"changed": bool, "migrated": bool,
        "migration_due": bool, "migrated_from": rev|null, "head": rev,
        "roles_changed": n, "self_follows_added": n}. Exit status 1 on
        failure. With --if-at-head and the database behind: nothing done,
        "migration_due": true, exit status 0. A database without a schema
        (no revision: a new one) holds nothing to dump; it is migrated.
        """
        head = current_app.extensions['flasky_migration_head']
        result = {'changed': False, 'migrated': False, 'migration_due': False,
                  'migrated_from': None, 'head': head, 'roles_changed': 0,
                  'self_follows_added': 0}
        try:
            before = current_revision(db.engine)
            result['migrated_from'] = before
            directory = current_app.extensions['migrate'].directory
            if not is_known_revision(directory, before):
                raise RuntimeError(
                    f'the database is at revision {before!r}, which this '
                    'release does not know (written by a newer release?); '
                    'not touching it')
            if before != head and before is not None and if_at_head:
                result['migration_due'] = True
                _emit(result)
                return
            if before != head:
                upgrade()
            after = current_revision(db.engine)
            if after != head:
                raise RuntimeError(
                    f'database is at {after!r} after upgrade, not at {head!r}')
            result['migrated'] = before != after
            result['roles_changed'] = Role.insert_roles()
            result['self_follows_added'] = User.add_self_follows()
        except Exception as exc:
            db.session.rollback()
            click.echo(f'deploy failed: {exc.__class__.__name__}: {exc}',
                       err=True)
            result['failed'] = True
            result['error'] = f'{exc.__class__.__name__}: {exc}'
            result['changed'] = bool(result['migrated'])
            _emit(result)
            sys.exit(1)
        result['changed'] = bool(result['migrated'] or result['roles_changed']
                                 or result['self_follows_added'])
        _emit(result)

    @app.cli.command('migration-status')
    def migration_status():
        """Print {"current": rev|null, "head": rev, "at_head": bool}.

        Exit status 0 whether or not the database is at head (read the JSON);
        1 when the database cannot be reached.
        """
        head = current_app.extensions['flasky_migration_head']
        try:
            current = current_revision(db.engine)
        except Exception as exc:
            click.echo(f'cannot read the migration state: {exc}', err=True)
            _emit({'current': None, 'head': head, 'at_head': False,
                   'error': str(exc)})
            sys.exit(1)
        _emit({'current': current, 'head': head, 'at_head': current == head})

    @app.cli.command('selftest-token')
    def selftest_token():
        """Print a token for GET /_selftest/error?token=... (valid 5 min)."""
        click.echo(make_selftest_token())

    @app.cli.command('selftest-log')
    @click.option('--message', default=None,
                  help='Text to log (default: a self-test message).')
    def selftest_log(message):
        """Log one WARNING through app.logger (proves the syslog path)."""
        text = message or ('flasky self-test warning (release %s): if you '
                           'read this in syslog, logging works'
                           % current_app.config.get('FLASKY_RELEASE'))
        current_app.logger.warning(text)
        handlers = [type(h).__name__ for h in current_app.logger.handlers]
        _emit({'logged': True, 'level': 'WARNING', 'message': text,
               'handlers': handlers})


__all__ = ['register_commands', 'SELFTEST_MAX_AGE']
