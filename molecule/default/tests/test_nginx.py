"""nginx: the site as the internet sees it.

Outside checks run in the scenario's "internet" container
(scripts/internet-host.sh; its name in $INTERNET_HOST, default
flasky-default-internet), whose clients trust only the test ACME server's
issuing root.
"""

import os
import re
import time
import uuid

import pytest

import kit

from outside import ROOT_CA, var
from outside import run as outside

SECURITY_HEADERS = {
    "strict-transport-security": r"^max-age=\d{7,}",
    "x-content-type-options": r"^nosniff$",
    "x-frame-options": r"^(DENY|SAMEORIGIN)$",
    "referrer-policy": r"\S",
    "content-security-policy": r"default-src 'self'",
    "permissions-policy": r"\S",
}




def fetch(url, *curl_args):
    """(status, headers, body) of a request from the internet, TLS verified against the ACME root."""
    res = outside("curl", "-sS", "--max-time", "20", "--cacert", ROOT_CA, "-D", "/dev/stderr",
                  *curl_args, url)
    assert res.returncode == 0, f"curl {url}: {res.stderr}"
    blocks = [b for b in re.split(r"\r?\n\r?\n", res.stderr.strip()) if b.startswith("HTTP/")]
    lines = blocks[-1].splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, res.stdout




@pytest.fixture(scope="module")
def site(host):
    port = int(var(host, "app_public_https_port"))
    return {
        "domain": var(host, "app_domains[0]"),
        "https_suffix": "" if port == 443 else f":{port}",
        "static_dir": var(host, "app_static_dir"),
        "flag": var(host, "app_maintenance_flag"),
        "healthz": var(host, "app_healthcheck_path"),
        "app": var(host, "app_name"),
    }


def sudo(host, cmd):
    with host.sudo():
        return host.check_output(cmd)


def first_missing(host, path):
    """The outermost directory of path that does not exist yet (to remove after a probe), or None."""
    missing = None
    while path not in ("/", "") and not host.file(path).exists:
        missing, path = path, os.path.dirname(path)
    return missing


def assert_security_headers(headers, what):
    for name, pattern in SECURITY_HEADERS.items():
        assert name in headers, f"{what}: no {name} header"
        assert re.search(pattern, headers[name]), f"{what}: {name}: {headers[name]}"


def test_nginx_runs_without_the_default_site(host):
    assert host.service("nginx").is_running
    assert host.service("nginx").is_enabled
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    with host.sudo():
        assert host.run("nginx -t -q").rc == 0


def test_http_redirects_to_https_with_308(site):
    status, headers, _ = fetch(f"http://{site['domain']}/some/page?x=1")
    assert status == 308
    assert headers["location"] == f"https://{site['domain']}{site['https_suffix']}/some/page?x=1"


def test_acme_challenge_is_served_over_plain_http(host, site):
    token = uuid.uuid4().hex
    path = f"/var/www/letsencrypt/.well-known/acme-challenge/{token}"
    sudo(host, f"install -D -m 0644 /dev/null {path} && echo {token}.probe > {path}")
    try:
        status, _, body = fetch(f"http://{site['domain']}/.well-known/acme-challenge/{token}")
    finally:
        sudo(host, f"rm -f {path}")
    assert status == 200
    assert body.strip() == f"{token}.probe"


def test_app_pages_carry_the_security_headers(site):
    # 502 until the app is deployed, 200 (or a redirect to log in) afterwards.
    status, headers, _ = fetch(f"https://{site['domain']}/")
    assert status in (200, 302, 502)
    assert_security_headers(headers, f"GET / ({status})")


def test_not_found_carries_the_security_headers(site):
    status, headers, _ = fetch(f"https://{site['domain']}/static/no-such-file-{uuid.uuid4().hex}.css")
    assert status == 404
    assert_security_headers(headers, "404")


def header_counts(url):
    """(status, {header name: how many times it was sent}) of an answer from the internet."""
    res = outside("curl", "-sS", "-o", "/dev/null", "--max-time", "20", "--cacert", ROOT_CA, "-D", "-", url)
    assert res.returncode == 0, f"curl {url}: {res.stderr}"
    lines = res.stdout.strip().splitlines()
    counts = {}
    for line in lines[1:]:
        name = line.partition(":")[0].strip().lower()
        counts[name] = counts.get(name, 0) + 1
    return int(lines[0].split()[1]), counts


def _live_program(host, site):
    color = sudo(host, f"cat /srv/{site['app']}/shared/active_color").strip()
    return f"{site['app']}-{color}", f"/run/{site['app']}/gunicorn-{color}.sock"


def test_every_security_header_is_sent_exactly_once(host, site):
    """One owner per header: nginx. The app's 200, 404 and 500 and nginx's own 502 and 503
    each carry every security header once (twice, the browser may pick either value)."""
    base = f"https://{site['domain']}"
    token = sudo(host, f"/usr/local/bin/{site['app']}-manage selftest-token").strip().splitlines()[-1]
    answers = {
        "app 200": header_counts(f"{base}/"),
        "app 404": header_counts(f"{base}/no-such-page-{uuid.uuid4().hex}"),
        "app 500": header_counts(f"{base}/_selftest/error?token={token}"),
    }
    created = first_missing(host, os.path.dirname(site["flag"]))
    sudo(host, f"install -d {os.path.dirname(site['flag'])} && touch {site['flag']}")
    try:
        answers["nginx 503"] = header_counts(f"{base}/")
    finally:
        sudo(host, f"rm -f {site['flag']}")
        if created:
            sudo(host, f"rm -r {created}")
    program, socket = _live_program(host, site)
    sudo(host, f"supervisorctl stop {program}")
    try:
        answers["nginx 502"] = header_counts(f"{base}/")
    finally:
        sudo(host, f"supervisorctl start {program}")
        deadline = time.time() + 60
        while time.time() < deadline and host.run(
                f"sudo curl -s -o /dev/null -w '%{{http_code}}' --unix-socket {socket} http://localhost/healthz"
                ).stdout != "200":
            time.sleep(1)
    expected = {"app 200": 200, "app 404": 404, "app 500": 500, "nginx 503": 503, "nginx 502": 502}
    assert {what: status for what, (status, _) in answers.items()} == expected
    wrong = {what: {name: counts.get(name, 0) for name in SECURITY_HEADERS if counts.get(name, 0) != 1}
             for what, (_, counts) in answers.items()}
    assert not any(wrong.values()), f"headers not sent exactly once: {wrong}"


def test_server_does_not_tell_its_version(site):
    _, headers, _ = fetch(f"https://{site['domain']}/")
    assert headers["server"] == "nginx"


def test_http2_is_offered(site):
    res = outside("curl", "-sS", "-o", "/dev/null", "-w", "%{http_version}", "--cacert", ROOT_CA,
                  f"https://{site['domain']}/")
    assert res.stdout == "2"


def test_static_files_are_served_with_long_cache_headers(host, site):
    name = f"probe-{uuid.uuid4().hex}.txt"
    created = first_missing(host, site["static_dir"])
    sudo(host, f"install -d -m 0755 {site['static_dir']} && echo static-probe > {site['static_dir']}/{name}"
               f" && chmod 0644 {site['static_dir']}/{name}")
    try:
        status, headers, body = fetch(f"https://{site['domain']}/static/{name}")
    finally:
        sudo(host, f"rm -f {site['static_dir']}/{name}")
        if created:
            sudo(host, f"rm -r {created}")
    assert status == 200
    assert body.strip() == "static-probe"
    assert re.search(r"max-age=\d{7,}", headers["cache-control"])
    assert "immutable" in headers["cache-control"]
    assert_security_headers(headers, "static file")


def test_text_is_compressed(site):
    status, headers, _ = fetch(f"https://{site['domain']}/_{site['app']}-errors/50x.html",
                               "-H", "Accept-Encoding: gzip", "-o", "/dev/null")
    assert status == 200
    assert headers.get("content-encoding") == "gzip"


def test_unknown_host_names_are_refused(host, site):
    address = host.check_output("hostname -I").split()[0]
    # Plain HTTP: the connection is closed without an answer (444).
    res = outside("curl", "-sS", "-H", "Host: not-this-site.example", f"http://{address}/")
    assert res.returncode == 52, res.stderr  # empty reply from server
    # HTTPS: the handshake is refused, no certificate shown.
    res = outside("curl", "-sS", "--cacert", ROOT_CA, "--resolve", f"not-this-site.example:443:{address}",
                  "https://not-this-site.example/")
    assert res.returncode == 35, res.stderr  # TLS handshake failure
    assert "unrecognized name" in res.stderr


@pytest.mark.parametrize("version", ["tls1", "tls1_1"])
def test_old_tls_versions_are_refused(site, version):
    # The client offers the old version (security level 0); the server must say no.
    res = outside("sh", "-c",
                  f"openssl s_client -connect {site['domain']}:443 -servername {site['domain']}"
                  f" -{version} -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1")
    assert "alert protocol version" in res.stdout, res.stdout


@pytest.mark.parametrize("version,label", [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted(site, version, label):
    res = outside("sh", "-c",
                  f"openssl s_client -connect {site['domain']}:443 -servername {site['domain']}"
                  f" -{version} -CAfile {ROOT_CA} -verify_return_error </dev/null 2>&1")
    assert f"New, {label}, Cipher is" in res.stdout, res.stdout
    assert "Verify return code: 0 (ok)" in res.stdout


def test_weak_tls_1_2_ciphers_are_refused(site):
    # Not forward secret (static RSA key exchange) and CBC: not in Mozilla's intermediate list.
    res = outside("sh", "-c",
                  f"openssl s_client -connect {site['domain']}:443 -servername {site['domain']}"
                  f" -tls1_2 -cipher AES128-SHA </dev/null 2>&1")
    assert "Cipher is (NONE)" in res.stdout or "handshake failure" in res.stdout, res.stdout


def test_maintenance_switch(host, site):
    flag = site["flag"]
    created = first_missing(host, os.path.dirname(flag))
    sudo(host, f"install -d {os.path.dirname(flag)} && touch {flag}")
    try:
        status, headers, body = fetch(f"https://{site['domain']}/")
        assert status == 503
        assert "maintenance" in body.lower()
        assert_security_headers(headers, "maintenance 503")
        # The health check is not behind the switch.
        status, _, _ = fetch(f"https://{site['domain']}{site['healthz']}")
        assert status != 503
    finally:
        sudo(host, f"rm -f {flag}")
        if created:
            sudo(host, f"rm -r {created}")
    status, _, _ = fetch(f"https://{site['domain']}/")
    assert status != 503


def test_a_broken_configuration_never_replaces_the_working_one(host, site):
    """A value nginx rejects stops the run with nginx's message; nothing under /etc/nginx changes."""
    inventory = host.backend.ansible_inventory
    name = host.ansible.get_variables()["inventory_hostname"]
    fingerprint = "find /etc/nginx -type f -exec sha256sum {} + | sort"
    before = sudo(host, fingerprint)
    master_before = sudo(host, "systemctl show -p MainPID --value nginx")
    rc, out = kit.playbook("site.yml", name, "--tags", "nginx", "-e", "nginx_client_max_body_size=banana",
                           timeout=600, inv=inventory)
    assert rc != 0, out[-3000:]
    assert "nginx rejected the configuration" in out, out[-3000:]
    assert '"client_max_body_size" directive invalid value' in out, out[-3000:]
    assert sudo(host, fingerprint) == before
    assert sudo(host, "systemctl show -p MainPID --value nginx") == master_before
    status, _, _ = fetch(f"http://{site['domain']}/")
    assert status == 308
