"""Where the database schema stands compared with the migration scripts."""
import logging
import sys

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text


def head_revision(migrations_dir):
    """The single head of the checked-in revision chain (None if empty)."""
    cfg = AlembicConfig()
    cfg.set_main_option('script_location', migrations_dir)
    script = ScriptDirectory.from_config(cfg)
    # get_current_head() raises if the chain has more than one head: the
    # chain must stay linear.
    return script.get_current_head()


def known_revisions(migrations_dir):
    """Every revision id of this release's migration scripts."""
    cfg = AlembicConfig()
    cfg.set_main_option('script_location', migrations_dir)
    return frozenset(
        rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions())


def is_known_revision(migrations_dir, revision):
    """Whether ``revision`` is one of this release's migration scripts."""
    if revision is None:
        return True
    cfg = AlembicConfig()
    cfg.set_main_option('script_location', migrations_dir)
    try:
        return ScriptDirectory.from_config(cfg).get_revision(
            revision) is not None
    except Exception:
        return False


def current_revision(engine):
    """The revision stamped in the database, None if it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def probe(engine):
    """Cheap check for /healthz: one SELECT on alembic_version.

    Returns ``(database_ok, revision)``. When the SELECT fails, a second
    ``SELECT 1`` tells an unreachable database from one that was never
    migrated (no alembic_version table yet).
    """
    try:
        with engine.connect() as conn:
            try:
                rows = conn.execute(
                    text('SELECT version_num FROM alembic_version')).all()
            except Exception:
                conn.rollback()
                conn.execute(text('SELECT 1'))
                return True, None
    except Exception:
        return False, None
    if len(rows) != 1:
        # Empty table, or several rows (branches): not a single known head.
        return True, None if not rows else ','.join(sorted(r[0] for r in rows))
    return True, rows[0][0]


class StderrHandler(logging.StreamHandler):
    """Log to whatever sys.stderr is when a record is written.

    Used by migrations/alembic.ini: a plain StreamHandler would keep the
    stream that was sys.stderr when `flask db`/`flask deploy` configured
    logging, which may be closed by the time a later record comes.
    """

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass
