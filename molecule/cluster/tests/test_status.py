"""playbooks/status.yml reports every web host (release, color, health) and
the balancer's view of its pool, and changes nothing."""

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
    assert not re.search(r"changed=[1-9]", out), out
