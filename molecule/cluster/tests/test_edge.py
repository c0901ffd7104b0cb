"""The balancer is the site's only public face: Pebble's certificate for the
domain, 308 to HTTPS, one copy of each security header, both web hosts
answering behind it, and the client's own address reaching the app."""

import json
import re

import outside
from conftest import BASE, DOMAIN, curl, group, healthz, lb_name

testinfra_hosts = [lb_name()]


def test_certificate_comes_from_pebble_and_names_the_domain():
    # The client trusts Pebble's issuing root only: a page that loads proves the chain.
    assert healthz()["status"] == "ok"
    pem = outside.served_certificate(DOMAIN, "-issuer", "-ext", "subjectAltName")
    assert f"DNS:{DOMAIN}" in pem, pem
    assert "Pebble" in pem, pem


def test_http_redirects_to_https_with_308():
    res = outside.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                      f"http://{DOMAIN}/auth/login")
    assert res.stdout == f"308 {BASE}/auth/login", res.stdout


def test_responses_come_from_every_web_host():
    seen = {healthz()["host"] for _ in range(24)}
    assert seen == set(group("web")), seen


def test_the_app_sees_the_client_address_not_a_forged_one():
    me = outside.run("sh", "-c", "hostname -I").stdout.split()[0]
    assert healthz()["client"] == me
    # A client cannot choose its address: the balancer appends the real one
    # and the web hosts trust X-Forwarded-For from the balancer only.
    forged = json.loads(curl("-H", "X-Forwarded-For: 198.51.100.7", f"{BASE}/healthz").stdout)
    assert forged["client"] == me, forged


def headers_of(url):
    res = curl("-s", "-o", "/dev/null", "-D", "-", url)
    assert res.returncode == 0, res.stderr
    return [line.split(":", 1)[0].lower() for line in res.stdout.splitlines() if ":" in line], res.stdout


def test_each_security_header_once_on_pages_and_static_files():
    static = re.search(r'href="(/static/[^"]+)"', curl(f"{BASE}/").stdout)
    assert static, "the home page links no static file"
    for url in (f"{BASE}/", f"{BASE}/no-such-page", BASE + static.group(1)):
        names, raw = headers_of(url)
        for header in ("strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy"):
            assert names.count(header) == 1, f"{url}: {header} x{names.count(header)}\n{raw}"


def test_static_files_come_from_the_web_hosts_with_long_cache_headers():
    static = re.search(r'href="(/static/[^"]+)"', curl(f"{BASE}/").stdout).group(1)
    _, raw = headers_of(BASE + static)
    assert raw.startswith("HTTP/2 200"), raw
    assert re.search(r"(?im)^cache-control: public, max-age=31536000", raw), raw


def test_unknown_host_names_get_nothing():
    res = outside.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: other.example",
                      f"http://{DOMAIN}/")
    assert res.stdout in ("000", ""), res.stdout
