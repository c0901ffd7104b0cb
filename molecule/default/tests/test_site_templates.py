"""The top-level templates/ directory: the site's own templates win over the roles'.

On the first web host, with a templates directory of the test's own
(app_templates_dir): an nginx include adds a location, a maintenance page
replaces the role's, env.j2 adds a line to the release's .env. Seen from
the internet; then the same run without the directory brings everything back.
"""

import kit
import outside

testinfra_hosts = [kit.first_web_host_name()]

PROBE = "site-template-probe"
MAINTENANCE_MARKER = "Back soon: the site's own maintenance page"


def _site_templates(root):
    (root / "nginx").mkdir(parents=True)
    (root / "flasky_app").mkdir()
    (root / "nginx" / "locations.conf.j2").write_text(
        "location = /" + PROBE + " {\n    default_type text/plain;\n"
        "    return 200 \"" + PROBE + " {{ app_name }}\\n\";\n}\n")
    (root / "nginx" / "maintenance.html.j2").write_text(
        "<!doctype html><title>{{ app_name }}</title><p>" + MAINTENANCE_MARKER + "</p>\n")
    (root / "flasky_app" / "env.j2").write_text(
        "# The site's own environment lines\n\nSITE_TEMPLATE_PROBE={{ app_name }}-probe\n")
    return root


def _get(host, path):
    return outside.client("get", f"https://{outside.domain(host)}{path}")


def _maintenance_page(host):
    flag = outside.var(host, "app_maintenance_flag")
    kit.sudo(host, f"touch {flag}")
    try:
        return _get(host, "/")
    finally:
        kit.sudo(host, f"rm -f {flag}")


def _probe_line(host):
    """The .env line the site's env.j2 adds, or "" (never the whole file: it holds secrets)."""
    return kit.sudo(host, f"grep -s '^SITE_TEMPLATE_PROBE=' {kit.HOME}/current/.env || true").stdout.strip()


def test_site_templates_replace_and_extend_the_roles(host, tmp_path):
    name = kit.first_web_host(host)
    original = kit.live_release(host)
    templates = _site_templates(tmp_path / "templates")
    try:
        rc, out = kit.playbook("site.yml", name, "--tags", "nginx,deploy", "-e", f"app_templates_dir={templates}")
        assert rc == 0, out[-4000:]
        res = _get(host, f"/{PROBE}")
        assert res["status"] == 200 and res["body"].strip() == f"{PROBE} {kit.APP}", res
        page = _maintenance_page(host)
        assert page["status"] == 503 and MAINTENANCE_MARKER in page["body"], page
        assert _probe_line(host) == f"SITE_TEMPLATE_PROBE='{kit.APP}-probe'"
        assert kit.live_release(host) != original, "a changed .env makes a new release"
    finally:
        rc, out = kit.playbook("site.yml", name, "--tags", "nginx,deploy")
    assert rc == 0, out[-4000:]
    assert kit.live_release(host) == original
    assert _get(host, f"/{PROBE}")["status"] == 404
    page = _maintenance_page(host)
    assert page["status"] == 503 and MAINTENANCE_MARKER not in page["body"], page
    assert _probe_line(host) == ""
    assert kit.sudo(host, f"test -e /etc/nginx/snippets/{kit.APP}-site-locations.conf").rc != 0
