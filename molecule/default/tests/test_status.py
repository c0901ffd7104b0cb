"""playbooks/status.yml reports what runs, and only reads (changed=0)."""

import re

import kit

testinfra_hosts = [kit.first_web_host_name()]


def test_status_reports_release_migration_health_and_certificate(host):
    name = kit.first_web_host(host)
    rc, out = kit.playbook("playbooks/status.yml", name)
    assert rc == 0, out[-3000:]
    assert re.search(rf"{re.escape(name)}\s*:.*changed=0\b", out), out[-2000:]
    assert f"Release: {kit.live_release(host)} (color {kit.live_color(host)})" in out, out[-3000:]
    head = kit.migration_status(host)["head"]
    assert re.search(rf'Migration: .*"current": "{head}"', out), out[-3000:]
    assert "Health: HTTP 200" in out, out[-3000:]
    assert "nginx active" in out and "postgresql active" in out and "certbot.timer active" in out, out[-3000:]
    assert re.search(r"Certificate: issuer .*Pebble.*, expires \d{14}Z", out), out[-3000:]
