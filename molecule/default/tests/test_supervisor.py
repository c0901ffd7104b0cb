"""supervisor: keeps the live color running, across crashes and reboots.

The last test is DISRUPTIVE: it kill -9s the live gunicorn master and waits
until the app answers again. The host restart is in test_zz_host_restart.py
(last, on purpose: it changes the host's published SSH port).
"""

import re
import time

from outside import client, domain

APP = "flasky"


def _colors(host):
    with host.sudo():
        active = host.file(f"/srv/{APP}/shared/active_color").content_string.strip()
    return active, ("green" if active == "blue" else "blue")


def _status(host, color):
    with host.sudo():
        return host.run(f"supervisorctl status {APP}-{color}").stdout


def _healthy(host, color, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with host.sudo():
            res = host.run(f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 "
                           f"--unix-socket /run/{APP}/gunicorn-{color}.sock http://localhost/healthz")
        if res.stdout == "200":
            return time.time()
        time.sleep(1)
    return None


def test_supervisor_enabled_and_running(host):
    svc = host.service("supervisor")
    assert host.package("supervisor").is_installed
    assert svc.is_enabled and svc.is_running


def test_live_color_running_idle_color_stopped(host):
    active, idle = _colors(host)
    assert " RUNNING " in _status(host, active)
    assert re.search(r"\s(STOPPED|EXITED)\s", _status(host, idle)) or "no such process" in _status(host, idle)


def test_programs_are_defined_for_a_graceful_life(host):
    active, _ = _colors(host)
    with host.sudo():
        conf = host.file(f"/etc/supervisor/conf.d/{APP}-{active}.conf").content_string
        gconf = host.file(f"/etc/{APP}/gunicorn.conf.py").content_string
    graceful = int(re.search(r"^graceful_timeout = (\d+)", gconf, re.M).group(1))
    settings = dict(line.split("=", 1) for line in conf.splitlines() if "=" in line and not line.startswith(";"))
    assert settings["user"] == APP
    assert settings["autostart"] == "true" and settings["autorestart"] == "true"
    assert settings["stopsignal"] == "TERM"
    assert int(settings["stopwaitsecs"]) >= graceful
    assert settings["stopasgroup"] == "true" and settings["killasgroup"] == "true"
    assert settings["stdout_logfile_maxbytes"] and int(settings["stdout_logfile_backups"]) > 0
    # The program names its release, never `current`: a restart cannot change code.
    assert re.fullmatch(rf"/srv/{APP}/releases/\w+", settings["directory"])
    with host.sudo():
        current = host.file(f"/srv/{APP}/current").linked_to
    assert settings["directory"] == current


def test_only_the_live_color_starts_at_boot(host):
    active, idle = _colors(host)
    with host.sudo():
        assert host.file(f"/etc/supervisor/conf.d/{APP}-{active}.conf").contains("^autostart=true$")
        idle_conf = host.file(f"/etc/supervisor/conf.d/{APP}-{idle}.conf")
        assert not idle_conf.exists or idle_conf.contains("^autostart=false$")


def test_kill_9_of_the_master_is_repaired_and_leaves_no_orphaned_worker(host):
    """DISRUPTIVE: kill -9 of the live gunicorn master. Its workers die with it, within
    10 s (an idle worker of a master without the fix lingers up to timeout/2 = 15 s, a
    busy one much longer), so none keeps the old code, database connections or memory;
    supervisor starts a new master with its full set of workers; the site answers from
    outside."""
    active, _ = _colors(host)
    program = f"{APP}-{active}"
    assert _healthy(host, active), "the live program does not answer before the kill"
    with host.sudo():
        pid = host.check_output(f"supervisorctl pid {program}")
        workers = host.check_output(f"pgrep -P {pid}").split()
        assert workers, f"the master {pid} has no workers"
        host.run_expect([0], f"kill -9 {pid}")
    killed = time.time()
    # Pids still there and still gunicorn (not reused), until none is left or 10 s passed.
    pids = " ".join(workers)
    alive = workers
    while alive and time.time() < killed + 10:
        time.sleep(0.5)
        alive = host.run(f"for w in {pids}; do sudo grep -qs gunicorn /proc/$w/cmdline && echo $w; done; true"
                         ).stdout.split()
    assert not alive, f"workers of the killed master {pid} still alive {time.time() - killed:.0f} s later: {alive}"

    back = _healthy(host, active, timeout=30)
    assert back, "the app did not answer within 30 s of the kill"
    assert back - killed < 30
    # RUNNING once it stayed up for startsecs.
    deadline = time.time() + 30
    while " RUNNING " not in _status(host, active) and time.time() < deadline:
        time.sleep(1)
    assert " RUNNING " in _status(host, active)
    with host.sudo():
        new_pid = host.check_output(f"supervisorctl pid {program}")
        assert new_pid != pid
        new_workers = host.check_output(f"pgrep -P {new_pid}").split()
        conf = host.file(f"/etc/{APP}/gunicorn.conf.py").content_string
    configured = int(re.search(r"^workers = (\d+)", conf, re.M).group(1))
    cores = int(host.check_output("nproc"))
    assert len(new_workers) == (configured or min(2 * cores + 1, 8)), new_workers
    # And the internet gets its page.
    assert client("get", f"https://{domain(host)}/")["status"] == 200
