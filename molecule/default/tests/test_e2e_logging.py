"""The app's own log: with the unix config, a warning from the app goes
through syslog into the app's file under /var/log, and after a forced
logrotate the next one lands in a new file; with the
production config there is no such route (errors go by mail)."""

import time
import uuid

import kit


def _config(host):
    return host.ansible.get_variables().get("app_flask_config", "production")


def _warn_and_wait(host, text, log):
    """Make the app log a warning with `text`; True once `log` holds it (10 s at most)."""
    res = kit.sudo(host, f"/usr/local/bin/flasky-manage selftest-log --message '{text}'")
    assert res.rc == 0, res.stderr
    for _ in range(20):
        with host.sudo():
            if log.exists and text in log.content_string:
                return True
        time.sleep(0.5)
    return False


def test_a_warning_lands_in_the_apps_own_log_file_with_the_unix_config(host):
    if _config(host) != "unix":
        # Production config: no syslog route is installed for the app.
        assert not host.file("/etc/rsyslog.d/30-flasky.conf").exists
        assert "SysLogHandler" not in kit.sudo(host, "/usr/local/bin/flasky-manage selftest-log "
                                                     "--message probe-production").stdout
        return
    text = f"e2e syslog probe {uuid.uuid4().hex}"
    log = host.file("/var/log/flasky/app.log")
    assert _warn_and_wait(host, text, log), "the warning did not reach /var/log/flasky/app.log"
    with host.sudo():
        line = next(ln for ln in log.content_string.splitlines() if text in ln)
    assert "flasky" in line and "WARNING" in line.upper()
    assert host.file("/etc/logrotate.d/flasky-app").exists
    # Rotation really happens: forced now, the lines so far move to app.log.1
    # (delaycompress), and rsyslog, told by the postrotate script, writes the
    # next warning to a new app.log.
    with host.sudo():
        res = host.run("logrotate -f /etc/logrotate.d/flasky-app")
        assert res.rc == 0, res.stderr
        rotated = host.file("/var/log/flasky/app.log.1")
        assert rotated.exists and text in rotated.content_string, "app.log was not rotated to app.log.1"
    after = f"e2e syslog probe after the rotation {uuid.uuid4().hex}"
    assert _warn_and_wait(host, after, log), "after the rotation, warnings no longer reach app.log"
    with host.sudo():
        assert text not in log.content_string
        assert after not in rotated.content_string, "rsyslog still writes to the rotated file"
