"""Configuration classes for the Flasky application.

Every setting comes from the environment. A ``.env`` file next to this module
(the application root) is read with python-dotenv first, but a variable that
is already set in the real environment always wins over the file.

Values are read when a configuration object is *instantiated* (that is, when
``create_app`` runs), not when this module is imported, so a process (or a
test) that changes the environment gets a fresh view of it.
"""
import logging
import logging.handlers
import os
import smtplib
import sys

from dotenv import load_dotenv

basedir = os.path.abspath(os.path.dirname(__file__))

DOTENV_PATH = os.path.join(basedir, '.env')


def load_env_file(path=DOTENV_PATH):
    """Read KEY=value lines of ``path`` into os.environ.

    A variable that is already set in the real environment wins over the
    file (override=False). A missing file is not an error.
    """
    return load_dotenv(path, override=False)


load_env_file()

#: Directory with the static files; nginx serves /static/ straight from here.
STATIC_DIR = os.path.join(basedir, 'static')
#: Alembic/Flask-Migrate script directory, checked in with the code.
MIGRATIONS_DIR = os.path.join(basedir, 'migrations')
#: Config used when FLASK_CONFIG is not set (same for flasky.py and wsgi.py).
DEFAULT_CONFIG = 'development'


class ConfigError(RuntimeError):
    """The environment does not hold a setting the chosen config needs."""


def env_str(name, default=None):
    value = os.environ.get(name)
    if value is None or value.strip() == '':
        return default
    return value


def env_bool(name, default=False):
    value = env_str(name)
    if value is None:
        return default
    return value.strip().lower() in ('1', 'true', 'yes', 'on')


def env_int(name, default):
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f'{name} must be an integer, got {value!r}')


def normalize_database_url(url):
    """Pick the psycopg (version 3) driver for PostgreSQL URLs.

    ``postgres://`` (as some tools write it) and a bare ``postgresql://`` both
    become ``postgresql+psycopg://``, the driver listed in requirements.txt.
    Any other URL, including one that names a driver, is left as it is.
    """
    if url is None:
        return None
    for prefix in ('postgres://', 'postgresql://'):
        if url.startswith(prefix):
            return 'postgresql+psycopg://' + url[len(prefix):]
    return url


def sqlite_url(filename):
    return 'sqlite:///' + os.path.join(basedir, filename)


class Config:
    """Settings shared by every configuration."""

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    #: Development and tests may run without SECRET_KEY; production may not.
    REQUIRE_SECRET_KEY = False
    #: Put werkzeug's ProxyFix in front of the app (it runs behind nginx).
    BEHIND_PROXY = False

    def __init__(self):
        self.SECRET_KEY = env_str('SECRET_KEY')
        if self.SECRET_KEY is None:
            if self.REQUIRE_SECRET_KEY:
                raise ConfigError(
                    f'SECRET_KEY is not set: the {self.NAME!r} configuration '
                    'refuses to start without it. Set it in the environment '
                    'or in the .env file next to flasky.py.')
            self.SECRET_KEY = 'insecure-development-key'

        self.MAIL_SERVER = env_str('MAIL_SERVER', 'localhost')
        self.MAIL_PORT = env_int('MAIL_PORT', 25)
        self.MAIL_USE_TLS = env_bool('MAIL_USE_TLS', False)
        self.MAIL_USERNAME = env_str('MAIL_USERNAME')
        self.MAIL_PASSWORD = env_str('MAIL_PASSWORD')
        self.FLASKY_MAIL_SUBJECT_PREFIX = env_str(
            'FLASKY_MAIL_SUBJECT_PREFIX', '[Flasky]')
        self.FLASKY_MAIL_SENDER = env_str(
            'FLASKY_MAIL_SENDER', 'Flasky Admin <flasky@localhost>')
        self.MAIL_DEFAULT_SENDER = self.FLASKY_MAIL_SENDER
        self.FLASKY_ADMIN = env_str('FLASKY_ADMIN')
        self.FLASKY_POSTS_PER_PAGE = env_int('FLASKY_POSTS_PER_PAGE', 20)
        self.FLASKY_RELEASE = env_str('FLASKY_RELEASE', 'unknown')
        self.SYSLOG_IDENT = env_str('SYSLOG_IDENT', 'flasky')
        self.SYSLOG_ADDRESS = env_str('SYSLOG_ADDRESS', '/dev/log')
        # Only set when asked for: a SERVER_NAME makes Flask build URLs for
        # (and, with subdomain matching, route only) that host name.
        server_name = env_str('SERVER_NAME')
        if server_name is not None:
            self.SERVER_NAME = server_name

        url = normalize_database_url(self.database_url())
        self.SQLALCHEMY_DATABASE_URI = url
        self.SQLALCHEMY_ENGINE_OPTIONS = self.engine_options(url)

    def database_url(self):
        raise NotImplementedError

    @staticmethod
    def engine_options(url):
        options = {'pool_pre_ping': True}
        if url.startswith('postgresql'):
            # Fail fast (and let /healthz answer 503) when PostgreSQL is away.
            options['connect_args'] = {'connect_timeout': 5}
        return options

    @classmethod
    def init_app(cls, app):
        # Apps share the package's logger: drop the mail/syslog handlers an
        # earlier production app of this process may have put there.
        _replace_handler(app.logger, 'mail', None)
        _replace_handler(app.logger, 'syslog', None)


class DevelopmentConfig(Config):
    NAME = 'development'
    DEBUG = True

    def database_url(self):
        return env_str('DEV_DATABASE_URL', sqlite_url('data-dev.sqlite'))


class TestingConfig(Config):
    NAME = 'testing'
    TESTING = True
    WTF_CSRF_ENABLED = False

    def database_url(self):
        return env_str('TEST_DATABASE_URL', 'sqlite://')


class ProductionConfig(Config):
    NAME = 'production'
    REQUIRE_SECRET_KEY = True
    BEHIND_PROXY = True
    # Production is served over HTTPS only (nginx redirects plain HTTP): the
    # browser must never send the login cookies over plain HTTP (Secure),
    # scripts on the page must not read them (HttpOnly), and cross-site
    # subrequests and form posts must not carry them (SameSite=Lax still
    # sends them when a person follows a link to the site, e.g. a mail's
    # confirmation link).
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = 'Lax'
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = 'Lax'

    def database_url(self):
        return env_str('DATABASE_URL', sqlite_url('data.sqlite'))

    @classmethod
    def init_app(cls, app):
        Config.init_app(app)
        install_mail_error_handler(app)


class UnixConfig(ProductionConfig):
    NAME = 'unix'

    @classmethod
    def init_app(cls, app):
        ProductionConfig.init_app(app)
        install_syslog_handler(app)


config = {
    'development': DevelopmentConfig,
    'testing': TestingConfig,
    'production': ProductionConfig,
    'unix': UnixConfig,
    'default': DevelopmentConfig,
}


# --- Logging handlers ------------------------------------------------------

def _replace_handler(logger, tag, handler):
    """Attach ``handler`` to ``logger`` in place of an earlier one of ``tag``.

    Every app made by create_app shares the logger named after the package,
    so making a second app (tests do) must not stack a second handler.
    """
    for old in list(logger.handlers):
        if getattr(old, 'flasky_tag', None) == tag:
            logger.removeHandler(old)
            old.close()
    if handler is not None:
        handler.flasky_tag = tag
        logger.addHandler(handler)


class MailErrorHandler(logging.handlers.SMTPHandler):
    """SMTPHandler that uses STARTTLS whenever it is asked to.

    The standard handler only starts TLS when it also has credentials; here
    TLS and credentials are independent, each used only when configured.
    """

    def __init__(self, *args, use_tls=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_tls = use_tls

    def emit(self, record):
        try:
            from email.message import EmailMessage
            import email.utils

            msg = EmailMessage()
            msg['From'] = self.fromaddr
            msg['To'] = ','.join(self.toaddrs)
            msg['Subject'] = self.getSubject(record)
            msg['Date'] = email.utils.localtime()
            msg.set_content(self.format(record))
            with smtplib.SMTP(self.mailhost, self.mailport or 25,
                              timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.ehlo()
                    smtp.starttls()
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except Exception:
            self.handleError(record)


def install_mail_error_handler(app):
    """E-mail every ERROR logged by the app to the administrator."""
    cfg = app.config
    admin = cfg.get('FLASKY_ADMIN')
    if not admin:
        print('flasky: FLASKY_ADMIN is not set; error reports are not '
              'e-mailed', file=sys.stderr)
        _replace_handler(app.logger, 'mail', None)
        return
    credentials = None
    if cfg.get('MAIL_USERNAME') or cfg.get('MAIL_PASSWORD'):
        credentials = (cfg.get('MAIL_USERNAME') or '',
                       cfg.get('MAIL_PASSWORD') or '')
    handler = MailErrorHandler(
        mailhost=(cfg['MAIL_SERVER'], cfg['MAIL_PORT']),
        fromaddr=cfg['FLASKY_MAIL_SENDER'],
        toaddrs=[admin],
        subject=cfg['FLASKY_MAIL_SUBJECT_PREFIX'] + ' Application Error',
        credentials=credentials,
        use_tls=cfg.get('MAIL_USE_TLS', False),
        timeout=10.0)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter(
        '%(asctime)s %(levelname)s in %(module)s '
        '[release %(release)s]:\n%(message)s', defaults={
            'release': cfg.get('FLASKY_RELEASE', 'unknown')}))
    _replace_handler(app.logger, 'mail', handler)


class IdentFormatter(logging.Formatter):
    """Start each syslog message with "IDENT[PID]: " (the syslog tag).

    rsyslog and journald take the word before "[" as the program name
    (SYSLOG_IDENTIFIER), so a rule such as
    ``:programname, isequal, "flasky" /var/log/flasky/app.log`` can route the
    application's messages to a file of their own. The pid is the one of the
    process that logs, so it is right in every gunicorn worker.
    """

    def __init__(self, ident):
        super().__init__('%(levelname)s %(name)s: %(message)s')
        self.ident = ident

    def format(self, record):
        return f'{self.ident}[{record.process}]: ' + super().format(record)


def install_syslog_handler(app):
    """Send WARNING and above to the local syslog socket.

    The address is SYSLOG_ADDRESS (default /dev/log, the local socket that
    journald/rsyslog listen on in Debian; "host:port" means UDP). When that
    socket is missing, the app goes on without syslog and says so on stderr
    (which gunicorn/systemd still capture). A socket that exists but cannot
    be reached yet is retried on every message, as SysLogHandler does.
    """
    cfg = app.config
    address = cfg.get('SYSLOG_ADDRESS') or '/dev/log'
    if ':' in address and not address.startswith('/'):
        host, _, port = address.rpartition(':')
        address = (host, int(port))
    elif not os.path.exists(address):
        print(f'flasky: syslog socket {address} does not exist; '
              'not logging to syslog', file=sys.stderr)
        _replace_handler(app.logger, 'syslog', None)
        return
    try:
        handler = logging.handlers.SysLogHandler(
            address=address,
            facility=logging.handlers.SysLogHandler.LOG_USER)
    except OSError as exc:
        print(f'flasky: syslog socket {address!r} is not usable ({exc}); '
              'not logging to syslog', file=sys.stderr)
        _replace_handler(app.logger, 'syslog', None)
        return
    handler.setLevel(logging.WARNING)
    handler.setFormatter(IdentFormatter(cfg.get('SYSLOG_IDENT') or 'flasky'))
    _replace_handler(app.logger, 'syslog', handler)
