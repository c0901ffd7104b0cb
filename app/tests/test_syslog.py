"""The unix config logs WARNING and above to the local syslog socket."""
import socket

import pytest



def receive(sock):
    data = sock.recv(65536)
    return data.rstrip(b'\x00').decode()


def test_unix_config_logs_warning_to_syslog(make_app, syslog_socket):
    app = make_app('unix')
    app.logger.info('not sent')
    app.logger.warning('disk almost full')
    msg = receive(syslog_socket)
    # <12> = facility user (1) * 8 + severity warning (4)
    assert msg.startswith('<12>flasky[')
    assert ']: WARNING flasky: disk almost full' in msg


def test_syslog_ident_is_configurable(make_app, syslog_socket):
    app = make_app('unix', SYSLOG_IDENT='flasky-staging')
    app.logger.error('broken')
    msg = receive(syslog_socket)
    assert msg.startswith('<11>flasky-staging[')  # user.err
    assert 'broken' in msg


def test_selftest_log_command_reaches_syslog(make_app, syslog_socket):
    app = make_app('unix', FLASKY_RELEASE='r7')
    result = app.test_cli_runner().invoke(args=['selftest-log'])
    assert result.exit_code == 0, result.output
    assert '"logged": true' in result.stdout
    msg = receive(syslog_socket)
    assert msg.startswith('<12>flasky[')
    assert 'flasky self-test warning (release r7)' in msg


def test_unhandled_exception_reaches_syslog(make_app, syslog_socket):
    app = make_app('unix')
    app.add_url_rule('/boom', 'boom', lambda: 1 / 0)
    assert app.test_client().get('/boom').status_code == 500
    msg = receive(syslog_socket)
    assert msg.startswith('<11>flasky[')
    assert 'Exception on /boom [GET]' in msg
    assert 'ZeroDivisionError' in msg


def test_production_config_does_not_log_to_syslog(make_app, syslog_socket):
    app = make_app('production')
    app.logger.warning('stays out of syslog')
    syslog_socket.settimeout(0.5)
    with pytest.raises(socket.timeout):
        syslog_socket.recv(65536)


def test_missing_syslog_socket_is_not_fatal(make_app, tmp_path, capfd):
    app = make_app('unix', SYSLOG_ADDRESS=str(tmp_path / 'nope'))
    assert not [h for h in app.logger.handlers
                if getattr(h, 'flasky_tag', None) == 'syslog']
    assert 'not logging to syslog' in capfd.readouterr().err
    app.logger.warning('goes to stderr only')
    assert app.test_client().get('/healthz').status_code == 200


def test_only_one_syslog_handler_per_logger(make_app, syslog_socket):
    make_app('unix')
    app = make_app('unix')
    tagged = [h for h in app.logger.handlers
              if getattr(h, 'flasky_tag', None) in ('syslog', 'mail')]
    assert sorted(h.flasky_tag for h in tagged) == ['mail', 'syslog']
