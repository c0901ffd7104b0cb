"""Upkeep nobody does by hand, proven on the live cluster:

- certbot's own timer service (certbot.service, what certbot.timer starts)
  renews the site's certificate through the ACME server, and the deploy
  hook makes nginx serve it: the internet sees a new certificate, still
  trusted through Pebble's root;
- testssl.sh from the internet: TLS 1.2 and 1.3 only, no HIGH or CRITICAL
  finding;
- tags for partial runs: `site.yml --tags certs` and `--tags deploy` run
  their roles' tasks only (and the preflight) and change nothing on a
  converged cluster.
"""

import json
import re
import time

from conftest import DOMAIN, host, lb_name, playbook, recap_changed

import outside

testinfra_hosts = [lb_name()]
RENEWAL = "/etc/letsencrypt/renewal/flasky.conf"
# Pebble, a test CA, puts neither a CRL nor an OCSP address into what it
# issues (Let's Encrypt's certificates carry a CRL address): that finding is
# about the CA, not the server. Every other HIGH or CRITICAL one fails.
CA_FINDINGS = {"cert_revocation"}


def served_serial():
    """The serial of the certificate the site serves, seen from the internet
    (the handshake verified against Pebble's root only)."""
    out = outside.served_certificate(DOMAIN, "-serial", verify=True)
    assert out.startswith("serial="), out
    return out.strip()


def test_the_timer_service_renews_the_certificate_and_nginx_serves_it():
    lb = host(lb_name())
    before = served_serial()
    with lb.sudo():
        original = lb.file(RENEWAL).content_string
        assert "renew_before_expiry" in original
        # Make the certificate due (it is fresh): renew when it has under ten years left.
        lb.check_output(f"sed -i 's/^# *renew_before_expiry = .*/renew_before_expiry = 3650 days/' {RENEWAL}")
        try:
            res = lb.run("systemctl start certbot.service")
            log = lb.run("journalctl -u certbot.service -n 20 --no-pager; tail -n 20 /var/log/letsencrypt/letsencrypt.log")
            assert res.rc == 0, res.stderr + log.stdout
            assert lb.run("systemctl show -P Result certbot.service").stdout.strip() == "success", log.stdout
        finally:
            lb.run(f"cat > {RENEWAL} <<'EOF'\n{original}EOF")
        assert lb.file(RENEWAL).content_string == original
    deadline = time.time() + 20
    while served_serial() == before and time.time() < deadline:
        time.sleep(1)
    assert served_serial() != before, "nginx still serves the old certificate after the renewal"


def test_testssl_finds_only_tls_1_2_and_1_3_and_nothing_high():
    res = outside.run("bash", "-c",
                      f"rm -f /tmp/testssl.json; testssl --quiet --color 0 --warnings off --add-ca {outside.ROOT_CA}"
                      f" --jsonfile /tmp/testssl.json -p -S -P -U {DOMAIN}:443 >/dev/null 2>&1;"
                      " cat /tmp/testssl.json", timeout=600)
    assert res.returncode == 0, res.stderr
    findings = {f["id"]: f for f in json.loads(res.stdout)}
    offered = {p for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
               if findings[p]["finding"].startswith("offered")}
    assert offered == {"TLS1_2", "TLS1_3"}, {p: findings[p]["finding"] for p in offered}
    bad = {i: f"{f['severity']}: {f['finding']}" for i, f in findings.items()
           if f["severity"] in ("HIGH", "CRITICAL") and i not in CA_FINDINGS}
    assert not bad, bad
    # The scan really ran: the certificate and the vulnerability checks are in it.
    assert findings["cert_chain_of_trust"]["severity"] == "OK", findings["cert_chain_of_trust"]
    assert {"heartbleed", "ROBOT", "BREACH"} <= set(findings)


def tasks_run(output):
    """The roles whose tasks ran (by TASK [role : name] headers), not counting
    the argument spec check Ansible runs for every role of a play (it is
    always tagged and changes nothing)."""
    return {m.group(1) for m in re.finditer(r"^TASK \[([\w.]+) : (?!Validating arguments against arg spec)",
                                            output, re.M)}


def test_tags_run_only_their_part_and_change_nothing():
    # (A deploy ends with the nginx role's pool tasks on the balancer.)
    for tag, roles in (("certs", {"preflight", "certbot"}), ("deploy", {"preflight", "flasky_app", "nginx"})):
        rc, out = playbook("site.yml", "--tags", tag)
        assert rc == 0, out[-3000:]
        ran = tasks_run(out)
        assert roles <= ran, f"--tags {tag} ran the roles {sorted(ran)}"
        assert ran <= roles, f"--tags {tag} also ran {sorted(ran - roles)}"
        nginx = re.findall(r"^TASK \[nginx : (?!Validating)(.*?)\] \*", out, re.M)
        assert all("pool" in t or "health check" in t for t in nginx), f"--tags {tag} ran nginx tasks other than the pool's: {nginx}"
        changed = recap_changed(out)
        assert changed and not any(changed.values()), f"--tags {tag}: {changed}"
