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


def _processes(host):
    """Every process on the host as (pid, ppid, pgid, args); fails if ps fails."""
    out = host.check_output("ps -e -o pid=,ppid=,pgid=,args=")
    procs = []
    for line in out.splitlines():
        pid, ppid, pgid, args = (line.split(None, 3) + [""])[:4]
        procs.append((int(pid), int(ppid), int(pgid), args))
    assert len(procs) > 5, f"ps listed almost nothing: {out}"
    return procs


def _supervised(host, program):
    """supervisord's own view of a program: (state, pid)."""
    with host.sudo():  # exit 3 when it is not running: its state says why
        out = host.run(f"supervisorctl status {program}").stdout
    m = re.search(rf"^{re.escape(program)}\s+(\S+)(?:\s+pid (\d+),)?", out, re.M)
    assert m, out
    return m.group(1), int(m.group(2) or 0)


def test_kill_9_of_the_master_is_repaired_and_leaves_no_orphaned_worker(host):
    """DISRUPTIVE: kill -9 of the live gunicorn master.

    Orphaned workers keep the socket open and can answer 200 before anything
    restarts, so "the site answers" alone proves nothing. In order: every
    process of the old master (its process group: supervisord starts each
    program in its own group; and its children) is gone within 10 s (an idle
    worker of a master without PR_SET_PDEATHSIG lingers up to timeout/2 = 15 s,
    a busy one much longer); then supervisord reports the program RUNNING with
    a new pid, that master has exactly the CPU-sized set of workers; then the
    site answers from the internet."""
    active, _ = _colors(host)
    program = f"{APP}-{active}"
    assert _healthy(host, active), "the live program does not answer before the kill"
    state, pid = _supervised(host, program)
    assert state == "RUNNING" and pid, (state, pid)
    with host.sudo():
        old = {p for p, ppid, pgid, _ in _processes(host) if pgid == pid or ppid == pid}
        workers = [p for p, ppid, _, args in _processes(host) if ppid == pid and "gunicorn" in args]
        assert workers, f"the master {pid} has no workers"
        host.run_expect([0], f"kill -9 {pid}")
    killed = time.time()
    # Any process of the old master: in its group, or a child of it (also a
    # worker already re-parented to init), until none is left or 10 s passed.
    old.add(pid)
    alive = old
    while alive and time.time() < killed + 10:
        time.sleep(0.5)
        with host.sudo():
            alive = {(p, args) for p, ppid, pgid, args in _processes(host)
                     if (p in old or pgid == pid or ppid == pid) and "<defunct>" not in args}
    assert not alive, f"processes of the killed master {pid} alive {time.time() - killed:.0f} s later: {alive}"

    # supervisord restarted it: RUNNING (it stayed up for startsecs), a new pid.
    deadline = time.time() + 40
    state, new_pid = _supervised(host, program)
    while not (state == "RUNNING" and new_pid != pid) and time.time() < deadline:
        time.sleep(1)
        state, new_pid = _supervised(host, program)
    assert state == "RUNNING", f"{program} is {state} 40 s after the kill"
    assert new_pid and new_pid != pid, f"supervisord still names the killed pid {pid}"
    assert time.time() - killed < 40
    # Its full set of workers, sized from the CPUs (as test_gunicorn.py).
    cores = int(host.check_output("nproc"))
    deadline = time.time() + 30
    while True:
        with host.sudo():
            procs = _processes(host)
        new_workers = [p for p, ppid, _, args in procs if ppid == new_pid and "gunicorn" in args]
        if len(new_workers) >= min(2 * cores + 1, 8) or time.time() > deadline:
            break
        time.sleep(1)
    master = [args for p, _, _, args in procs if p == new_pid]
    assert master and "gunicorn" in master[0], f"the new pid {new_pid} is not gunicorn: {master}"
    assert len(new_workers) == min(2 * cores + 1, 8), new_workers
    assert _healthy(host, active, timeout=30), "the new master does not answer on its socket"
    # And the internet gets its page.
    assert client("get", f"https://{domain(host)}/")["status"] == 200
