"""Alembic environment: runs migrations with the Flask app's engine."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config

# Log to stderr as alembic.ini says, without switching off the loggers that
# already exist (the app's logger and its mail/syslog handlers).
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')

db = current_app.extensions['migrate'].db
target_metadata = db.metadata


def _database_url():
    return db.engine.url.render_as_string(hide_password=False).replace(
        '%', '%%')


config.set_main_option('sqlalchemy.url', _database_url())


def run_migrations_offline():
    """Write SQL to stdout instead of running it (`flask db upgrade --sql`)."""
    context.configure(url=config.get_main_option('sqlalchemy.url'),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # `flask db migrate` with no change: write no empty revision.
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            process_revision_directives=process_revision_directives,
            # SQLite cannot ALTER most things in place: autogenerate batch ops.
            render_as_batch=connection.dialect.name == 'sqlite',
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
