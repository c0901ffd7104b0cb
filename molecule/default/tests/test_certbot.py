"""certbot: a real certificate from the test ACME server (Pebble), obtained
through the HTTP-01 challenge this nginx serves, and renewed.

Outside checks run in the scenario's "internet" container
(scripts/internet-host.sh; $INTERNET_HOST, default flasky-default-internet),
whose clients trust only Pebble's issuing root.
"""

import time

import pytest

from outside import ROOT_CA, var
from outside import run as outside


@pytest.fixture(scope="module")
def cfg(host):
    # The scenario gets its certificates from Pebble on every host: any other
    # mode is a broken scenario, never a reason to skip these checks.
    mode = var(host, "certbot_mode")
    assert mode == "acme", f"certbot_mode is {mode!r} on this host: the scenario must test ACME"
    return {
        "domains": var(host, "certbot_domains"),
        "name": var(host, "certbot_cert_name"),
        "bundle": var(host, "certbot_acme_ca_bundle"),
    }


def served_certificate(domain):
    """Issuer, names and serial of the certificate the site presents to the internet."""
    res = outside("sh", "-c",
                  f"openssl s_client -connect {domain}:443 -servername {domain} </dev/null 2>/dev/null"
                  " | openssl x509 -noout -issuer -serial -ext subjectAltName")
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_site_loads_over_tls_verified_by_the_acme_root_only(cfg):
    # curl trusts only Pebble's issuing root: any HTTP answer proves the certificate.
    for domain in cfg["domains"]:
        res = outside("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                      "--cacert", ROOT_CA, f"https://{domain}/")
        assert res.returncode == 0, res.stderr
        assert res.stdout.split()[1] == "0"


def test_certificate_is_issued_by_the_acme_server_for_the_domains(cfg):
    cert = served_certificate(cfg["domains"][0])
    assert "Pebble" in cert
    for domain in cfg["domains"]:
        assert f"DNS:{domain}" in cert


def test_nginx_reads_the_live_certificate_through_stable_links(host, cfg):
    for name in ("fullchain.pem", "privkey.pem"):
        link = f"/etc/ssl/{cfg['name']}/{name}"
        assert host.file(link).is_symlink
        assert host.check_output(f"readlink {link}") == f"/etc/letsencrypt/live/{cfg['name']}/{name}"


def test_renewal_runs_from_the_package_timer_with_a_reload_hook(host, cfg):
    assert host.service("certbot.timer").is_enabled
    assert host.service("certbot.timer").is_running
    with host.sudo():
        hook = host.file("/etc/letsencrypt/renewal-hooks/deploy/50-reload-nginx")
        assert hook.exists and hook.mode & 0o111
        assert hook.contains("nginx -t")
        if cfg["bundle"]:
            assert host.check_output("systemctl show -p Environment --value certbot.service") \
                == f"REQUESTS_CA_BUNDLE={cfg['bundle']}"
        renewal = host.file(f"/etc/letsencrypt/renewal/{cfg['name']}.conf")
        assert renewal.contains("^authenticator = webroot")


def test_a_renewal_replaces_the_served_certificate(host, cfg):
    domain = cfg["domains"][0]
    before = served_certificate(domain)
    env = f"REQUESTS_CA_BUNDLE={cfg['bundle']} " if cfg["bundle"] else ""
    with host.sudo():
        res = host.run(f"{env}certbot renew --force-renewal --cert-name {cfg['name']} --no-random-sleep-on-renew")
    assert res.rc == 0, res.stderr
    # The deploy hook's reload is asynchronous (nginx's old workers may take a
    # handshake or two before the new ones serve), as in the cluster's
    # test_upkeep: the new certificate must be served within 20 s.
    deadline = time.time() + 20
    while True:
        after = served_certificate(domain)
        serial = [line for line in after.splitlines() if line.startswith("serial=")]
        if (serial and serial[0] not in before) or time.time() > deadline:
            break
        time.sleep(1)
    assert serial and serial[0] not in before, "nginx still serves the old certificate 20 s after the renewal"
    res = outside("curl", "-sS", "-o", "/dev/null", "-w", "%{ssl_verify_result}", "--cacert", ROOT_CA,
                  f"https://{domain}/")
    assert res.stdout == "0", res.stderr
