"""DISRUPTIVE: the host restarts and everything comes back without Ansible.

`docker restart` of this scenario's own host containers (never any other):
supervisor is enabled at boot, systemd-tmpfiles re-creates the socket
directory on the fresh /run, the live color's program autostarts and the
idle one does not, and the site answers again.

The harness publishes each host's SSH on a fixed port (scripts/testhost.sh),
so the inventory stays valid across the restart. The file still runs last
(its name): the restart clears state other tests may have set up.
"""

import re
import subprocess
import time

APP = "flasky"


def _exec(name, *argv):
    return subprocess.run(["docker", "exec", name, *argv], capture_output=True, text=True, timeout=60)


def _ssh_port(name):
    out = subprocess.run(["docker", "port", name, "22/tcp"], capture_output=True, text=True).stdout
    return re.search(r"127\.0\.0\.1:(\d+)", out).group(1)


def test_host_restart_brings_everything_back_without_ansible(host):
    name = host.ansible.get_variables()["inventory_hostname"]
    assert name.startswith(("flasky-default-", "hp-")), f"not this scenario's test container: {name}"
    with host.sudo():
        active = host.file(f"/srv/{APP}/shared/active_color").content_string.strip()
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
    # And through nginx, as a visitor would see it.
    domain = host.ansible.get_variables()["app_domains"][0]
    page = _exec(name, "curl", "-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                 "--resolve", f"{domain}:443:127.0.0.1", f"https://{domain}/")
    assert page.stdout == "200"
