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
    # (The output's lines may be wrapped: any whitespace between the words.)
    assert re.search(r"Repository:\s+flasky-cluster-backup1,\s+\d+\.\d\s+MiB", out), out
    assert re.search(r"Last\s+backup:\s+(full|diff|incr)\s+\d{8}-\d{6}F\S*,\s+ended\s+\d{4}-\d\d-\d\d\s+[\d:]+\s+UTC"
                     r"\s+\(\d+\.\d\s+h\s+ago\);\s+\d+\s+in\s+the\s+repository", out), out
    assert re.search(r"Last\s+archived\s+WAL:\s+[0-9A-F]{24},\s+\d+\s+s\s+ago", out), out
    assert not re.search(r"changed=[1-9]", out), out
