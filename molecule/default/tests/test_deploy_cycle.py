"""The deploy cycle with a second version of the app (LONG: several deploys).

On the first web host of the scenario, with ansible-playbook against the
scenario's own inventory (MOLECULE_INVENTORY_FILE), under a steady load
from the internet container:

1. a modified copy of app/ (a new page text and an expand migration) deploys:
   a new release, a dump before the migration, the schema at the new head,
   the switch to the other color - and not one request answered with an
   error while it happens;
2. rollback.yml brings the previous release back (the schema stays);
3. a broken copy (its WSGI module raises) fails its health check: the deploy
   fails saying where the logs are, nginx is not switched, the old release
   keeps answering, the broken program is stopped;
4. cleanup: the schema goes back to the original head and a plain deploy of
   the original app is a no-op (changed=0): the host is as it was;
5. the same new version deployed as "another Flask-Migrate app" (no
   migration-status command) still gets its dump before the migration.
"""

import json
import re
import subprocess
import time

import pytest

import kit
import outside
from kit import APP, HOME

testinfra_hosts = [kit.first_web_host_name()]
MARKER = "Deployed by the deploy-cycle test"
MIGRATION = kit.migration(
    "0003_cycle_note", "Deploy-cycle test: one nullable column (expand only).",
    "op.add_column('users', sa.Column('cycle_note', sa.String(length=64), nullable=True))",
    "op.drop_column('users', 'cycle_note')")


_playbook = kit.playbook


def _copy_app(dest, broken=False):
    kit.copy_app(dest, MIGRATION, "0003_cycle_note")
    index = dest / "flasky" / "templates" / "main" / "index.html"
    index.write_text(index.read_text().replace("</h1>", f"</h1>\n<p>{MARKER}</p>", 1))
    if broken:
        wsgi = dest / "wsgi.py"
        wsgi.write_text(wsgi.read_text() + "\nraise RuntimeError('broken on purpose by the deploy-cycle test')\n")
    return dest


class Site:
    def __init__(self, host):
        self.host = host
        self.name = host.ansible.get_variables()["inventory_hostname"]
        self.domain = host.ansible.get_variables()["app_domains"][0]

    def sudo(self, cmd):
        with self.host.sudo():
            return self.host.run(cmd)

    def current(self):
        return self.sudo(f"readlink {HOME}/current").stdout.strip().rsplit("/", 1)[-1]

    def previous(self):
        return self.sudo(f"readlink {HOME}/previous").stdout.strip().rsplit("/", 1)[-1]

    def color(self):
        return self.sudo(f"cat {HOME}/shared/active_color").stdout.strip()

    def status(self, color):
        return self.sudo(f"supervisorctl status {APP}-{color}").stdout

    def page(self, path="/"):
        res = self.host.run(f"curl -sk --max-time 10 -w '\\n%{{http_code}}' "
                            f"--resolve {self.domain}:443:127.0.0.1 https://{self.domain}{path}")
        body, _, code = res.stdout.rpartition("\n")
        return code, body

    def socket_health(self, color):
        out = self.sudo(f"curl -s --max-time 10 --unix-socket /run/{APP}/gunicorn-{color}.sock "
                        f"http://localhost/healthz").stdout
        return json.loads(out)

    def start_probe(self):
        """A steady, bounded load from the internet container: one request
        every 0.05 s through the public name, TLS verified, each status code
        (000 for a connection error) to a file, until told to stop or 15 minutes pass."""
        outside.run("rm", "-f", "/tmp/cycle-codes", "/tmp/cycle-stop")
        loop = (f"end=$(($(date +%s) + 900)); while [ ! -e /tmp/cycle-stop ] && [ $(date +%s) -lt $end ]; do "
                f"curl -s -o /dev/null --max-time 10 --cacert {outside.ROOT_CA} -w '%{{http_code}}\\n' "
                f"https://{self.domain}/ >> /tmp/cycle-codes; sleep 0.05; done")
        subprocess.run(["docker", "exec", "-d", outside.INTERNET, "sh", "-c", loop], check=True)

    def stop_probe(self):
        outside.run("touch", "/tmp/cycle-stop")
        time.sleep(1)
        codes = outside.run("cat", "/tmp/cycle-codes").stdout.split()
        outside.run("rm", "-f", "/tmp/cycle-codes", "/tmp/cycle-stop")
        return codes


@pytest.fixture(scope="module")
def site(host):
    return Site(host)


def test_deploy_new_version_rollback_and_failed_health(site, tmp_path):
    original, original_color = site.current(), site.color()
    assert original and original_color in ("blue", "green")
    try:
        # 1. A new version with a migration, under load.
        v2 = _copy_app(tmp_path / "v2")
        site.start_probe()
        rc, out = _playbook("playbooks/deploy.yml", site.name, "-e", f"flasky_app_src_dir={v2}")
        codes = site.stop_probe()
        assert rc == 0, out[-4000:]
        new = site.current()
        assert new != original, "a changed source must make a new release"
        assert site.previous() == original
        assert site.color() != original_color
        assert " RUNNING " in site.status(site.color())
        assert " RUNNING " not in site.status(original_color)
        health = site.socket_health(site.color())
        assert health["at_head"] and health["migration"] == "0003_cycle_note" and health["release"] == new
        code, body = site.page()
        assert code == "200" and MARKER in body
        dumps = site.sudo("ls /var/backups/postgresql/flasky/").stdout
        assert re.search(r"pre-migrate-0002_user_profile-to-0003_cycle_note", dumps), dumps
        assert len(codes) >= 10, f"the probe made too few requests: {codes}"
        assert set(codes) == {"200"}, f"requests failed during the switch: {codes}"

        # 2. Rollback to the original release; the schema stays at 0003.
        rc, out = _playbook("playbooks/rollback.yml", site.name)
        assert rc == 0, out[-4000:]
        assert site.current() == original and site.previous() == new
        code, body = site.page()
        assert code == "200" and MARKER not in body
        health = site.socket_health(site.color())
        assert health["release"] == original and health["database"] is True
        assert health["migration"] == "0003_cycle_note", "a rollback must not downgrade the schema"

        # 3. A broken version: health check fails, the old release keeps serving.
        live_color = site.color()
        v3 = _copy_app(tmp_path / "v3", broken=True)
        rc, out = _playbook("playbooks/deploy.yml", site.name, "-e", f"flasky_app_src_dir={v3}")
        assert rc != 0, "a deploy whose release is unhealthy must fail"
        assert "did not become healthy" in out and "keeps serving" in out, out[-4000:]
        idle = "green" if live_color == "blue" else "blue"
        assert f"/var/log/{APP}/{idle}-error.log" in out
        assert site.current() == original and site.color() == live_color
        assert " RUNNING " in site.status(live_color)
        assert " RUNNING " not in site.status(idle)
        code, body = site.page()
        assert code == "200" and MARKER not in body
        up = site.sudo(f"cat /etc/nginx/snippets/{APP}-upstream.conf").stdout
        assert f"gunicorn-{live_color}.sock" in up
    finally:
        # 4. Back to the original state: schema at the original head, original release live.
        rc, out = _restore(site)
    assert rc == 0, out[-4000:]
    assert site.current() == original
    assert re.search(r"changed=0\s", out), "a deploy of the unchanged original must change nothing:\n" + out[-3000:]
    assert site.socket_health(site.color())["at_head"] is True


def _restore(site):
    """Downgrade the schema with the release that knows the test migration, deploy the original."""
    built = site.sudo(f"ls {HOME}/releases").stdout.split()
    for rel in built:
        if site.sudo(f"test -e {HOME}/releases/{rel}/migrations/versions/0003_cycle_note.py").rc == 0:
            site.sudo(f"cd {HOME}/releases/{rel} && sudo -u {APP} venv/bin/flask db downgrade 0002_user_profile")
            break
    return _playbook("playbooks/deploy.yml", site.name)


def _dumps(site):
    return set(site.sudo("ls /var/backups/postgresql/flasky/").stdout.split())


def test_any_flask_migrate_app_gets_its_dump_before_a_migration(site, tmp_path):
    """An app deployed with inventory variables only, without the bundled app's
    `flask migration-status` (flasky_app_migration_status_command: ""): Flask-Migrate's
    own `flask db current` and `flask db heads` show the pending migration, and the
    database is dumped before it runs."""
    original = site.current()
    before = _dumps(site)
    try:
        rc, out = _playbook("playbooks/deploy.yml", site.name, "-e", f"flasky_app_src_dir={_copy_app(tmp_path / 'v2')}",
                            "-e", "flasky_app_migration_status_command=''")
        assert rc == 0, out[-4000:]
        assert site.socket_health(site.color())["migration"] == "0003_cycle_note"
        new = sorted(_dumps(site) - before)
        assert any("pre-migrate-0002_user_profile-to-0003_cycle_note" in d for d in new), \
            f"no dump before the migration; new files: {new}\n{out[-3000:]}"
    finally:
        rc, out = _restore(site)
    assert rc == 0, out[-4000:]
    assert site.current() == original
