"""Flasky: a small social blogging application (after "Flask Web Development").

``create_app(config_name)`` is the application factory.
"""
import os

from flask import Flask, jsonify, render_template, request
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEFAULT_CONFIG, MIGRATIONS_DIR, STATIC_DIR, config

# Deterministic constraint names, the same on PostgreSQL and SQLite, so that
# later migrations can drop or alter them by name.
naming_convention = {
    'ix': 'ix_%(column_0_label)s',
    'uq': 'uq_%(table_name)s_%(column_0_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = 'auth.login'

CONTENT_SECURITY_POLICY = "default-src 'self'"


def create_app(config_name=None):
    """Build the application for ``config_name`` (default: FLASK_CONFIG)."""
    if config_name is None:
        config_name = os.environ.get('FLASK_CONFIG') or DEFAULT_CONFIG
    try:
        config_class = config[config_name]
    except KeyError:
        raise ValueError(
            f'unknown configuration {config_name!r}; '
            f'choose one of {", ".join(sorted(config))}') from None

    app = Flask(__name__, static_folder=STATIC_DIR, static_url_path='/static')
    app.config.from_object(config_class())
    app.config['FLASKY_CONFIG_NAME'] = config_name
    config_class.init_app(app)

    if config_class.BEHIND_PROXY:
        # nginx in front sets X-Forwarded-For/-Proto/-Host; trust one hop so
        # url_for(..., _external=True) builds https://public-name/ URLs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    mail.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from .migration_state import head_revision, known_revisions
    # Computed once: /healthz compares the database with these on each probe.
    app.extensions['flasky_migration_head'] = head_revision(MIGRATIONS_DIR)
    app.extensions['flasky_known_revisions'] = known_revisions(MIGRATIONS_DIR)

    from .main import main as main_blueprint
    app.register_blueprint(main_blueprint)

    from .auth import auth as auth_blueprint
    app.register_blueprint(auth_blueprint, url_prefix='/auth')

    from .ops import ops as ops_blueprint
    app.register_blueprint(ops_blueprint)
    csrf.exempt(ops_blueprint)

    register_error_handlers(app)

    from .markdown import render as render_markdown
    app.add_template_filter(render_markdown, 'markdown')

    from .cli import register_commands
    register_commands(app)

    @app.shell_context_processor
    def make_shell_context():
        from . import models
        return dict(db=db, User=models.User, Role=models.Role,
                    Permission=models.Permission, Post=models.Post,
                    Follow=models.Follow)

    # Only the CSP comes from the app: it knows what its pages load (nginx
    # sends its default CSP only when the app sent none). Every other
    # security header (X-Frame-Options, X-Content-Type-Options,
    # Referrer-Policy, HSTS, Permissions-Policy) has one owner, nginx, so no
    # answer carries two, possibly different, values of one header.
    @app.after_request
    def content_security_policy(response):
        response.headers.setdefault('Content-Security-Policy',
                                    CONTENT_SECURITY_POLICY)
        return response

    return app


def _wants_json():
    best = request.accept_mimetypes.best_match(['application/json',
                                                'text/html'])
    return (best == 'application/json'
            and request.accept_mimetypes[best]
            > request.accept_mimetypes['text/html'])


def register_error_handlers(app):
    @app.errorhandler(403)
    def forbidden(e):
        if _wants_json():
            return jsonify(error='forbidden'), 403
        return render_template('403.html'), 403

    @app.errorhandler(404)
    def page_not_found(e):
        if _wants_json():
            return jsonify(error='not found'), 404
        return render_template('404.html'), 404

    @app.errorhandler(500)
    def internal_server_error(e):
        # The database may be what failed: drop the broken transaction, and
        # never let the error page itself fail.
        try:
            db.session.rollback()
        except Exception:
            pass
        if _wants_json():
            return jsonify(error='internal server error'), 500
        try:
            return render_template('500.html'), 500
        except Exception:
            return ('<!doctype html><title>Internal Server Error</title>'
                    '<h1>Internal Server Error</h1>'), 500
