"""playbooks/status.yml reports every web host (release, color, health), the
balancer's view of its pool and the backups (the repository, the last
backup and the last archived WAL with their ages), and changes nothing."""

import re

from conftest import group, live_release, playbook

testinfra_hosts = [group("web")[0]]


def test_status_reports_every_web_host_and_the_pool():
    rc, out = playbook("playbooks/status.yml")
    assert rc == 0, out[-4000:]
    for name in group("web"):
        release = live_release(name)
        assert re.search(rf"ok: \[{re.escape(name)}\].*?Release: {release} \(color (blue|green)\)", out, re.S), out
        assert re.search(rf"{re.escape(name)} \S+:8080: in the pool, health HTTP 200, release {release}", out), out
    assert re.search(r"Health: HTTP 200 ", out), out
    assert re.search(r"Repository: flasky-cluster-backup1, \d+\.\d MiB", out), out
    assert re.search(r"Last backup: (full|diff|incr) \d{8}-\d{6}F\S*, ended \d{4}-\d\d-\d\d [\d:]+ UTC "
                     r"\(\d+\.\d h ago\); \d+ in the repository", out), out
    assert re.search(r"Last archived WAL: [0-9A-F]{24}, \d+ s ago", out), out
    assert not re.search(r"changed=[1-9]", out), out
