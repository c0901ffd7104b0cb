"""Operational endpoints: the health check and the error self-test."""
import socket

from flask import Blueprint, abort, current_app, jsonify, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from . import db
from .migration_state import probe

ops = Blueprint('ops', __name__)

SELFTEST_SALT = 'flasky-selftest'
#: A self-test token is good for this many seconds.
SELFTEST_MAX_AGE = 300


class SelfTestError(RuntimeError):
    """Raised on purpose by /_selftest/error to test error reporting."""


def _selftest_serializer(app=None):
    app = app or current_app
    return URLSafeTimedSerializer(app.config['SECRET_KEY'], salt=SELFTEST_SALT)


def make_selftest_token(app=None):
    return _selftest_serializer(app).dumps({'selftest': 'error'})


def selftest_token_valid(token, max_age=SELFTEST_MAX_AGE):
    if not token:
        return False
    try:
        data = _selftest_serializer().loads(token, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return False
    return isinstance(data, dict) and data.get('selftest') == 'error'


@ops.route('/healthz')
def healthz():
    """200 when the database answers and its schema can serve this code.

    The schema can serve it at this release's head, and also "ahead": at a
    revision this release does not know, written by a newer release that
    was rolled back. Migrations are expand/contract, so an older release
    keeps working on a newer schema. Behind head, or never migrated: 503.

    One query (SELECT on alembic_version); the head and the known revisions
    were computed once when the app was created. No login, no session, no
    SERVER_NAME.
    """
    head = current_app.extensions.get('flasky_migration_head')
    known = current_app.extensions.get('flasky_known_revisions', frozenset())
    database_ok, current = probe(db.engine)
    at_head = database_ok and current is not None and current == head
    if not database_ok:
        schema = 'unreachable'
    elif current is None:
        schema = 'none'
    elif at_head:
        schema = 'head'
    elif current in known:
        schema = 'behind'
    else:
        schema = 'ahead'
    healthy = schema in ('head', 'ahead')
    body = {
        'status': 'ok' if healthy else 'fail',
        'database': database_ok,
        'migration': current,
        'at_head': at_head,
        'schema': schema,
        'release': current_app.config.get('FLASKY_RELEASE') or 'unknown',
        # Which web host answered, and the client address it saw (through
        # the trusted proxies): behind a balancer both tell how it routes.
        'host': socket.gethostname(),
        'client': request.remote_addr,
    }
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers['Cache-Control'] = 'no-store'
    return response


@ops.route('/_selftest/error')
def selftest_error():
    """Raise an unhandled exception, but only for a valid token.

    Without a valid token (query string ``token`` or header
    ``X-Selftest-Token``) this route does not exist: 404. With one, the
    exception takes Flask's normal path: logged at ERROR through app.logger
    (so the production SMTP handler mails the administrator) and answered
    with the 500 page.
    """
    token = request.args.get('token') or request.headers.get(
        'X-Selftest-Token')
    if not selftest_token_valid(token):
        abort(404)
    raise SelfTestError(
        'Self-test exception raised on purpose by /_selftest/error '
        f'(release {current_app.config.get("FLASKY_RELEASE")}). '
        'If you read this in an e-mail, error reports work.')
