"""The FLASK_APP module: ``FLASK_APP=flasky.py flask deploy`` and friends.

Note: this file sits next to the ``flasky`` package, and Python resolves the
name ``flasky`` to the package first. So ``FLASK_APP=flasky.py`` (or
``FLASK_APP=flasky``) makes Flask's CLI import the package and call its
``create_app()`` factory, which reads FLASK_CONFIG and registers the CLI
commands (deploy, migration-status, selftest-token, selftest-log) and the
shell context. This file gives the same app to anything that loads it by
path (``python flasky.py <command>`` runs the same CLI).
"""
from flask.cli import FlaskGroup

from flasky import create_app

app = create_app()

if __name__ == '__main__':
    FlaskGroup(create_app=lambda: app).main(prog_name='flasky.py')
