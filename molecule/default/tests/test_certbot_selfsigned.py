"""The certbot role's self-signed mode (certbot_mode: selfsigned, the local
demo's), which the scenario's ACME hosts do not use: its task file, run
against a directory of the test's own, makes a P-256 key and a certificate
naming exactly the domains, changes nothing while they hold, and makes a new
certificate (same key) when the domains change or the certificate nears its
end."""

import json

import kit

testinfra_hosts = [kit.first_web_host_name()]

DIR = "/root/flasky-test-selfsigned"
TASK = "TASK [certbot : Keep a self-signed certificate for the domains]"


def _run(name, tmp_path, domains):
    book = tmp_path / "selfsigned.yml"
    book.write_text(json.dumps([{
        "name": "Self-signed pair (test)", "hosts": name, "become": True, "gather_facts": False,
        "tasks": [{"name": "The certbot role's self-signed tasks", "ansible.builtin.include_role": {
            "name": "certbot", "tasks_from": "selfsigned"}}],
        "vars": {"certbot_selfsigned_dir": DIR, "certbot_domains": domains,
                 "certbot_selfsigned_days": 365, "certbot_selfsigned_renew_days": 30},
    }]))
    rc, out = kit.playbook(str(book), name)
    assert rc == 0, out[-4000:]
    return kit.recap_changed(out, name), out


def _pair(host):
    with host.sudo():
        return {
            "san": host.check_output(f"openssl x509 -in {DIR}/fullchain.pem -noout -ext subjectAltName"),
            "pub": host.check_output(f"openssl pkey -in {DIR}/privkey.pem -pubout"),
            "cert_pub": host.check_output(f"openssl x509 -in {DIR}/fullchain.pem -noout -pubkey"),
            "curve": host.check_output(f"openssl pkey -in {DIR}/privkey.pem -noout -text | grep 'NIST CURVE'"),
            "days_left": int(host.check_output(
                f"echo $(( ($(date -d \"$(openssl x509 -in {DIR}/fullchain.pem -noout -enddate | cut -d= -f2)\" +%s)"
                f" - $(date +%s)) / 86400 ))")),
            "modes": (host.file(DIR).mode, host.file(f"{DIR}/privkey.pem").mode,
                      host.file(f"{DIR}/fullchain.pem").mode),
        }


def test_selfsigned_pair_made_kept_and_renewed(host, tmp_path):
    name = host.backend.get_hostname()
    with host.sudo():
        host.check_output(f"rm -rf {DIR}")
    try:
        changed, out = _run(name, tmp_path, ["a.test.invalid", "b.test.invalid"])
        assert TASK in out and changed >= 1, out[-4000:]
        first = _pair(host)
        assert first["san"].split("\n", 1)[1].strip() == "DNS:a.test.invalid, DNS:b.test.invalid", first
        assert first["pub"] == first["cert_pub"], "the certificate is not the key's"
        assert "P-256" in first["curve"], first
        assert 363 <= first["days_left"] <= 365, first
        assert first["modes"] == (0o700, 0o600, 0o644), first

        changed, out = _run(name, tmp_path, ["a.test.invalid", "b.test.invalid"])
        assert changed == 0, out[-4000:]

        # Another name: a new certificate, the same key.
        changed, out = _run(name, tmp_path, ["a.test.invalid", "b.test.invalid", "c.test.invalid"])
        assert changed >= 1, out[-4000:]
        second = _pair(host)
        assert second["san"].split("\n", 1)[1].strip() == \
            "DNS:a.test.invalid, DNS:b.test.invalid, DNS:c.test.invalid", second
        assert second["pub"] == first["pub"] == second["cert_pub"]

        # A certificate that ends within the renewal window (30 days) is made again.
        with host.sudo():
            host.check_output(
                f"openssl req -x509 -new -key {DIR}/privkey.pem -days 10 -subj /CN=a.test.invalid "
                f"-addext subjectAltName=DNS:a.test.invalid,DNS:b.test.invalid,DNS:c.test.invalid "
                f"-out {DIR}/fullchain.pem")
        assert _pair(host)["days_left"] <= 10
        changed, out = _run(name, tmp_path, ["a.test.invalid", "b.test.invalid", "c.test.invalid"])
        assert changed >= 1, out[-4000:]
        third = _pair(host)
        assert 363 <= third["days_left"] <= 365 and third["pub"] == first["pub"], third
    finally:
        with host.sudo():
            host.check_output(f"rm -rf {DIR}")
