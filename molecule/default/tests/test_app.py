"""The application: its releases, its secrets, and the site it serves."""

import json
import re
import uuid

import kit
from outside import client

APP = "flasky"
HOME = f"/srv/{APP}"


def _domain(host):
    return host.ansible.get_variables()["app_domains"][0]


def _current_id(host):
    with host.sudo():
        target = host.file(f"{HOME}/current").linked_to
    return target.rsplit("/", 1)[1]


def _active(host):
    with host.sudo():
        return host.file(f"{HOME}/shared/active_color").content_string.strip()


def test_current_points_at_a_complete_release(host):
    with host.sudo():
        link = host.file(f"{HOME}/current")
        assert link.is_symlink
        assert re.fullmatch(rf"{HOME}/releases/[0-9a-f]{{12}}", link.linked_to)
        rel = link.linked_to
        assert host.file(f"{rel}/.release-ok").content_string.strip() == _current_id(host)
        assert host.file(f"{rel}/venv/bin/python").exists
        assert host.file(f"{rel}/static").is_directory


def test_env_file_is_secret_and_owned_by_the_app_user(host):
    with host.sudo():
        env = host.file(f"{HOME}/current/.env")
        assert (env.user, env.group, env.mode) == (APP, APP, 0o600)
        text = env.content_string
    for key in ("SECRET_KEY", "DATABASE_URL", "MAIL_SERVER", "FLASKY_ADMIN", "FLASK_CONFIG", "FLASKY_RELEASE"):
        assert re.search(rf"^{key}='.+'$", text, re.M), key
    assert f"FLASKY_RELEASE='{_current_id(host)}'" in text
    assert re.search(r"^DATABASE_URL='postgresql://", text, re.M)
    # Not readable by the web server or anyone else.
    assert host.run(f"sudo -u www-data cat {HOME}/current/.env").rc != 0


def test_healthz_on_the_live_socket_reports_this_release_at_head(host):
    with host.sudo():
        out = host.check_output(f"curl -s --unix-socket /run/{APP}/gunicorn-{_active(host)}.sock "
                                f"-H 'Host: {_domain(host)}' http://localhost/healthz")
    health = json.loads(out)
    assert health["status"] == "ok" and health["database"] is True
    assert health["at_head"] is True
    assert health["release"] == _current_id(host)


def test_site_answers_through_nginx_with_the_page(host):
    res = host.run(f"curl -sk --max-time 10 -w '\\n%{{http_code}}' --resolve {_domain(host)}:443:127.0.0.1 "
                   f"https://{_domain(host)}/")
    body, _, status = res.stdout.rpartition("\n")
    assert status == "200", res.stdout[-500:]
    assert "Hello, Stranger!" in body


def test_login_cookies_are_secure_httponly_and_same_site_lax(host):
    """From the internet, a real registration and a "remember me" login over HTTPS: the
    session and remember-me cookies are never sent over plain HTTP, never read by scripts,
    never sent on cross-site subrequests (the bookworm host runs the production config,
    trixie the unix one)."""
    tag = uuid.uuid4().hex[:10]
    base, email, password = f"https://{_domain(host)}", f"cookie+{tag}@{_domain(host)}", f"pw-{tag}-Secret!"
    assert client("register", base, email, f"cookie_{tag}", password)["status"] == 200
    res = client("login-cookies", base, email, password)
    assert res["status"] == 200 and not any("invalid" in f.lower() for f in res["flashes"]), res
    cookies = {c["name"]: c for c in res["cookies"]}
    assert {"session", "remember_token"} <= set(cookies), res["cookies"]
    for name in ("session", "remember_token"):
        assert cookies[name]["secure"], f"{name} cookie without Secure: {cookies[name]}"
        assert cookies[name]["httponly"], f"{name} cookie without HttpOnly: {cookies[name]}"
        assert cookies[name]["samesite"] == "Lax", f"{name} cookie SameSite: {cookies[name]}"


def test_healthz_through_nginx(host):
    out = host.check_output(f"curl -sk --max-time 10 --resolve {_domain(host)}:443:127.0.0.1 "
                            f"https://{_domain(host)}/healthz")
    health = json.loads(out)
    assert health["at_head"] is True and health["release"] == _current_id(host)


def test_static_files_served_by_nginx_from_the_release(host):
    res = host.run(f"curl -sk --max-time 10 -o /dev/null -w '%{{http_code}}' --resolve {_domain(host)}:443:127.0.0.1 "
                   f"https://{_domain(host)}/static/style.css")
    assert res.stdout == "200"


def test_nginx_upstream_points_at_the_live_color(host):
    """nginx connects to the live link (its upstream include names nothing else),
    and the link is the live color's socket, where the live program answers."""
    color = _active(host)
    with host.sudo():
        up = host.file(f"/etc/nginx/snippets/{APP}-upstream.conf").content_string
        link = host.file(f"{HOME}/shared/live.sock").linked_to
        health = host.check_output(f"curl -s --max-time 10 --unix-socket {HOME}/shared/live.sock "
                                   f"-H 'Host: {_domain(host)}' http://localhost/healthz")
        current = host.check_output(f"readlink {HOME}/current").rsplit("/", 1)[-1]
    assert re.findall(r"^\s*server\s+(\S+)", up, re.M) == [f"unix:{HOME}/shared/live.sock"], up
    assert link == f"/run/{APP}/gunicorn-{color}.sock"
    assert json.loads(health)["release"] == current


def test_a_deploy_keeping_two_releases_prunes_exactly_the_others(host):
    """A deploy with flasky_app_keep_releases=2 (the only deploy of this file;
    nothing else changes, so it is a no-op but for the pruning) on a host
    given four more releases: three complete ones (markers a day, two and
    three days old, the two older ones linked to virtualenvs of their own)
    and a half-built one (no marker). The newest two complete releases stay
    (the live one and the one a day old); the older two, the half-built one
    and the virtualenvs only they used are gone; the live virtualenv stays."""
    name = host.ansible.get_variables()["inventory_hostname"]
    live = _current_id(host)
    fake = {age: f"{uuid.uuid4().hex[:11]}{age}" for age in (1, 2, 3)}
    half = f"{uuid.uuid4().hex[:11]}0"
    venvs = {age: f"prunetest{uuid.uuid4().hex[:7]}" for age in (2, 3)}
    setup = []
    for age, rel in fake.items():
        setup += [f"install -d -o {APP} -g {APP} {HOME}/releases/{rel}",
                  f"echo {rel} > {HOME}/releases/{rel}/.release-ok",
                  f"touch -d '{age} days ago' {HOME}/releases/{rel}/.release-ok"]
        if age in venvs:
            setup += [f"install -d -o {APP} -g {APP} {HOME}/venvs/{venvs[age]}",
                      f"ln -s {HOME}/venvs/{venvs[age]} {HOME}/releases/{rel}/venv"]
    setup.append(f"install -d -o {APP} -g {APP} {HOME}/releases/{half}")
    with host.sudo():
        host.check_output(" && ".join(setup))
        live_venv = host.check_output(f"readlink {HOME}/releases/{live}/venv").rsplit("/", 1)[-1]
        before = set(host.check_output(f"ls -1 {HOME}/releases").split())
        by_age = [line.split()[1].split("/")[-2] for line in sorted(host.check_output(
            f"stat -c '%Y %n' {HOME}/releases/*/.release-ok").splitlines(), reverse=True)]
        previous = host.run(f"readlink {HOME}/previous").stdout.strip().rsplit("/", 1)[-1]
    assert before >= {live, half, *fake.values()}
    # What the role promises: the two newest complete releases stay, and the
    # live and previous ones whatever their age. On a freshly converged host
    # (one real release) that is the live one and the one a day old.
    expected_gone = before - {*by_age[:2], live, previous}
    try:
        rc, out = kit.playbook("playbooks/deploy.yml", name, "-e", "flasky_app_keep_releases=2")
        assert rc == 0, out[-3000:]
        with host.sudo():
            after = set(host.check_output(f"ls -1 {HOME}/releases").split())
            venvs_after = set(host.check_output(f"ls -1 {HOME}/venvs").split())
        assert before - after == expected_gone, f"before {before}, after {after}"
        assert {fake[2], fake[3], half} <= expected_gone
        assert _current_id(host) == live
        assert live_venv in venvs_after and not set(venvs.values()) & venvs_after, venvs_after
    finally:
        with host.sudo():
            host.run(f"rm -rf {' '.join(f'{HOME}/releases/{r}' for r in [*fake.values(), half])} "
                     f"{' '.join(f'{HOME}/venvs/{v}' for v in venvs.values())}")


def test_no_secret_in_the_program_definitions(host):
    with host.sudo():
        confs = host.check_output(f"cat /etc/supervisor/conf.d/{APP}-*.conf")
        secret = host.check_output(f"sed -n \"s/^SECRET_KEY='\\(.*\\)'$/\\1/p\" {HOME}/current/.env")
    assert secret and secret not in confs
