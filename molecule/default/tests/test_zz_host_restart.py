"""DISRUPTIVE: the host restarts and everything comes back without Ansible.

`docker restart` of this scenario's own host containers (never any other):
supervisor is enabled at boot, systemd-tmpfiles re-creates the socket
directory on the fresh /run, the live color's program autostarts and the
idle one does not, and the site answers again. Then, from the internet
container (outside, through the host's published services only): an nmap of
every port finds 22, 80 and 443 open and every other port filtered (ufw's
default deny is back: a port nothing listens on would otherwise answer
"closed"); the page loads with a client that trusts only Pebble's root; and
fail2ban, fed real failed SSH logins from outside, bans that address, which
then cannot connect to SSH while the web still answers it, and can again
once unbanned.

The harness publishes each host's SSH on a fixed port (scripts/testhost.sh),
so the inventory stays valid across the restart. The file still runs last
(its name): the restart clears state other tests may have set up.
"""

import re
import subprocess
import time

import pytest

import outside

APP = "flasky"
OPEN = {22, 80, 443}
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=5"]


def _exec(name, *argv):
    return subprocess.run(["docker", "exec", name, *argv], capture_output=True, text=True, timeout=60)


def _ssh_port(name):
    out = subprocess.run(["docker", "port", name, "22/tcp"], capture_output=True, text=True).stdout
    found = re.search(r"127\.0\.0\.1:(\d+)", out)
    return found.group(1) if found else None


def _sudo(host, cmd):
    with host.sudo():
        return host.run(cmd)


@pytest.fixture(scope="module")
def restarted(host):
    """Restart the host's container, wait until its live color answers on its socket."""
    hv = host.ansible.get_variables()
    name = hv["inventory_hostname"]
    # Only the container this inventory host is: it publishes the SSH port the inventory uses.
    assert _ssh_port(name) == str(hv["ansible_port"]), f"{name} is not the container of this inventory host"
    active = _sudo(host, f"cat /srv/{APP}/shared/active_color").stdout.strip()
    assert active in ("blue", "green"), active
    idle = "green" if active == "blue" else "blue"
    old_port = _ssh_port(name)

    subprocess.run(["docker", "restart", "-t", "20", name], check=True, capture_output=True, timeout=180)
    assert _ssh_port(name) == old_port, "the SSH port moved: the inventory would be stale"

    deadline = time.time() + 120
    up = False
    while time.time() < deadline and not up:
        res = _exec(name, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                    "--unix-socket", f"/run/{APP}/gunicorn-{active}.sock", "http://localhost/healthz")
        up = res.stdout == "200"
        if not up:
            time.sleep(1)
    assert up, "the live color did not answer within 120 s of the restart"
    return {"name": name, "active": active, "idle": idle, "domain": hv["app_domains"][0]}


def test_the_live_program_autostarts_and_the_idle_one_does_not(restarted):
    name, active, idle = restarted["name"], restarted["active"], restarted["idle"]
    assert _exec(name, "systemctl", "is-enabled", "supervisor").stdout.strip() == "enabled"
    # Running for longer than startsecs: supervisor counts it as started.
    for _ in range(30):
        status = _exec(name, "supervisorctl", "status").stdout
        if re.search(rf"^{APP}-{active}\s+RUNNING", status, re.M):
            break
        time.sleep(1)
    assert re.search(rf"^{APP}-{active}\s+RUNNING", status, re.M), status
    assert not re.search(rf"^{APP}-{idle}\s+RUNNING", status, re.M), status
    assert _exec(name, "stat", "-c", "%U %G %a", f"/run/{APP}").stdout.split() == [APP, APP, "750"]


def test_the_firewall_and_fail2ban_came_back(host, restarted):
    assert "Status: active" in _sudo(host, "ufw status").stdout
    for unit in ("ufw", "fail2ban"):
        assert _exec(restarted["name"], "systemctl", "is-active", unit).stdout.strip() == "active", unit


def test_outside_scan_finds_only_ssh_and_web_and_every_other_port_filtered(host, restarted):
    listed, ignored, raw = outside.scan(outside.address(host))
    open_ports = {p for p, state in listed.items() if state == "open"}
    assert open_ports == OPEN, raw
    assert set(listed) == OPEN, f"ports neither open nor filtered: {raw}"
    # Nothing listens on them, so without the firewall they would answer "closed".
    assert ignored == ("filtered", 65535 - len(OPEN)), raw


def test_the_page_loads_over_tls_trusting_only_pebbles_root(restarted):
    domain = restarted["domain"]
    res = outside.run("curl", "-sS", "--max-time", "20", "--cacert", outside.ROOT_CA, "-o", "/dev/null",
                      "-w", "%{http_code} %{ssl_verify_result}", f"https://{domain}/")
    assert res.stdout == "200 0", res.stdout + res.stderr
    res = outside.run("curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                      f"http://{domain}/")
    assert res.stdout == f"308 https://{domain}/", res.stdout + res.stderr


def _sshd_jail(host):
    """fail2ban's sshd jail: (failures counted so far, addresses banned now)."""
    out = _sudo(host, "fail2ban-client status sshd || true").stdout  # not running: nothing counted
    failed = re.search(r"Total failed:\s*(\d+)", out)
    banned = re.search(r"Banned IP list:\s*(.*)$", out, re.M)
    return int(failed.group(1)) if failed else -1, set(banned.group(1).split()) if banned else set()


def _banned(host):
    return _sshd_jail(host)[1]


def _forget_ssh_attempts(host, source):
    """Clear an address from ufw's SSH rate-limit list (xt_recent), so that a
    refused connection afterwards is fail2ban's doing, not the rate limit's."""
    _sudo(host, f"echo -{source} > /proc/net/xt_recent/DEFAULT")


def test_fail2ban_bans_a_failing_outside_address_and_the_ban_blocks_it(host, restarted):
    target = outside.address(host)
    source = outside.own_address(target)
    _forget_ssh_attempts(host, source)
    failed, banned = _sshd_jail(host)
    assert failed >= 0, "fail2ban's sshd jail does not answer"
    assert source not in banned
    assert outside.can_connect(target, 22), "SSH does not answer from outside before the ban"
    _forget_ssh_attempts(host, source)
    try:
        # maxretry (5) failed logins, no more than ufw's SSH limit lets through in 30 s;
        # each one counted by fail2ban (it reads the journal) before the next.
        attempts = 0
        while source not in _banned(host) and attempts < 5:
            failed_before = _sshd_jail(host)[0]
            outside.run("ssh", *SSH_OPTS, f"no-such-user-restart@{target}", "true", timeout=60)
            attempts += 1
            for _ in range(40):
                failed, banned = _sshd_jail(host)
                if failed > failed_before or source in banned:
                    break
                time.sleep(0.25)
        for _ in range(40):  # the ban action runs right after the last failure is counted
            if source in _banned(host):
                break
            time.sleep(0.25)
        assert source in _banned(host), f"fail2ban did not ban {source} after {attempts} failed logins"
        _forget_ssh_attempts(host, source)
        assert not outside.can_connect(target, 22), "the banned address can still connect to SSH"
        assert outside.can_connect(target, 443), "the web must still answer the address banned from SSH"
        _sudo(host, f"fail2ban-client set sshd unbanip {source}")
        _forget_ssh_attempts(host, source)
        assert outside.can_connect(target, 22), "SSH stays closed to the address after its unban"
    finally:
        # Later runs must not start with the internet container banned or rate limited.
        _sudo(host, "fail2ban-client unban --all")
        _forget_ssh_attempts(host, source)
