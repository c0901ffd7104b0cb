"""playbooks/status.yml reports what runs, and only reads (changed=0)."""

import re
from datetime import datetime, timezone

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
    # Backups: the repository is on this host itself, and the status says what that risks.
    assert re.search(rf"Repository:\s+{re.escape(name)}\s+\(the\s+database\s+host\s+itself:\s+one\s+lost\s+disk"
                     r"\s+loses\s+both\)", out), out[-3000:]
    assert re.search(r"Last\s+backup:\s+full\s+\d{8}-\d{6}F", out), out[-3000:]
    assert "nginx active" in out and "postgresql active" in out and "certbot.timer active" in out, out[-3000:]
    # The expiry reads at a glance: a date and the days left, as the served certificate says.
    # (The output's lines may be wrapped: any whitespace between the words.)
    m = re.search(r"Certificate:\s+issuer\s.*?Pebble.*?,\s+expires\s+(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2})\s+UTC"
                  r"\s+\((-?\d+)\s+days\s+left\)", out, re.S)
    assert m, out[-3000:]
    domain = host.ansible.get_variables()["app_domains"][0]
    end = host.check_output(f"openssl s_client -connect 127.0.0.1:443 -servername {domain} </dev/null 2>/dev/null"
                            " | openssl x509 -noout -enddate").split("=", 1)[1]
    not_after = datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
    assert f"{m.group(1)} {m.group(2)}" == not_after.strftime("%Y-%m-%d %H:%M"), (m.groups(), end)
    days_left = (not_after - datetime.now(timezone.utc)).days
    assert int(m.group(3)) in (days_left, days_left - 1), (m.group(3), days_left)
