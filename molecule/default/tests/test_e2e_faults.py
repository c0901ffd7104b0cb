"""Faults, on the first web host: the site keeps serving or comes back, and
nothing is lost.

- a release whose migration fails: the database is unchanged (PostgreSQL
  rolls the whole migration back), the old release keeps serving, the run
  fails naming the command and the release;
- PostgreSQL restarted while the internet reads pages and registers users:
  the restart is real (its start time changes), nginx and gunicorn never stop
  answering, the failed answers are few and all overlap the outage, pages and
  writes come back by themselves, every acknowledged registration is stored;
- an open-relay attempt from the internet: nothing even listens for it.
"""

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import kit
import outside

testinfra_hosts = [kit.first_web_host_name()]
LOAD = (Path(__file__).parent / "files" / "pgload.py").read_text()

FAILING_MIGRATION = kit.migration(
    "0003_fails_halfway", "A migration that fails halfway (test only).",
    "op.add_column('users', sa.Column('doomed', sa.String(length=16), nullable=True))\n"
    "    op.execute('SELECT no_such_function()')",
    "op.drop_column('users', 'doomed')")


def _site_status(host):
    return outside.client("get", f"https://{outside.domain(host)}/")["status"]


def test_a_failing_migration_leaves_the_database_and_the_live_release_alone(host, tmp_path):
    name = kit.first_web_host(host)
    release, color = kit.live_release(host), kit.live_color(host)
    before = kit.migration_status(host)
    app = kit.copy_app(tmp_path / "app", FAILING_MIGRATION, "0003_fails_halfway")

    # Without the deploy command's --if-at-head first run: the status command
    # (`flask migration-status`) is asked before the dump, the path of an app
    # whose deploy command has no such option.
    rc, out = kit.playbook("playbooks/deploy.yml", name, "-e", f"flasky_app_src_dir={app}",
                           "-e", "flasky_app_deploy_if_at_head_option=''")

    assert rc != 0, out[-3000:]
    assert re.search(r"'flask deploy' failed in \S+/releases/", out), out[-3000:]
    assert "no_such_function" in out, "the error does not say what failed"
    # The database is as it was: same revision, no half-added column.
    assert kit.migration_status(host)["current"] == before["current"]
    assert kit.psql(host, "SELECT count(*) FROM information_schema.columns "
                          "WHERE table_name = 'users' AND column_name = 'doomed'") == "0"
    # A dump was taken before the attempt.
    dumps = kit.sudo(host, "ls /var/backups/postgresql/flasky/").stdout
    assert f"pre-migrate-{before['current']}-to-0003_fails_halfway" in dumps, dumps
    # The old release still serves, from the internet.
    assert (kit.live_release(host), kit.live_color(host)) == (release, color)
    assert _site_status(host) == 200
    # And the bundled app again is a no-op.
    rc, out = kit.playbook("playbooks/deploy.yml", name)
    assert rc == 0, out[-3000:]
    assert re.search(rf"{re.escape(name)}\s*:.*changed=0\b", out), out[-2000:]


def test_postgresql_restart_under_load_loses_no_acknowledged_write(host):
    """PostgreSQL stopped for 3 s and started again, while the internet reads pages
    and registers users (before, during and after): the restart really happened
    (pg_postmaster_start_time changes), nginx and gunicorn always answer, every
    failed answer overlaps the outage, everything after it succeeds, and every
    registration the app acknowledged is in the database."""
    tag = uuid.uuid4().hex[:8]
    base = f"https://{outside.domain(host)}"
    started_before = kit.psql(host, "SELECT pg_postmaster_start_time()")
    load = subprocess.Popen(["docker", "exec", "-i", outside.INTERNET, "python3", "-", outside.ROOT_CA,
                             base, "24", tag, "2", "2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    load.stdin.write(LOAD)
    load.stdin.close()
    time.sleep(7)
    down = time.time()
    res = kit.sudo(host, "systemctl stop postgresql && sleep 3 && systemctl start postgresql")
    up = time.time()
    assert res.rc == 0, res.stderr
    out, err = load.stdout.read(), load.stderr.read()
    assert load.wait(timeout=120) == 0, err[-3000:]
    records = json.loads(out.strip().splitlines()[-1])["records"]
    assert kit.psql(host, "SELECT pg_postmaster_start_time()") != started_before, "PostgreSQL did not restart"

    def ok(r):
        return r[3] == 302 and r[5].endswith("/auth/login") if r[2] == "register" else r[3] == 200

    writes = [r for r in records if r[2] == "register"]
    acked = [r for r in writes if ok(r)]
    failed = [r for r in records if not ok(r)]
    late = [r for r in failed if r[0] > up]
    summary = (f"outage {down:.1f}-{up:.1f}; {len(records)} requests, {len(failed)} failed "
               f"({len(late)} sent after PostgreSQL was back), "
               f"{len(acked)} of {len(writes)} registrations acknowledged; failed: {failed[:20]}")
    print(summary)
    # Writes before, during and after.
    assert len([r for r in acked if r[1] < down]) >= 2, summary
    assert [r for r in writes if r[0] < up and r[1] > down], "no registration overlapped the outage: " + summary
    assert len([r for r in acked if r[0] > up]) >= 2, summary
    assert len([r for r in records if r[2] == "page" and r[0] > up]) >= 10, summary
    # nginx and gunicorn never stopped answering.
    assert not [r for r in records if r[3] == 0], "requests without an HTTP answer: " + summary
    # The failures are bounded by the outage: every one was in flight while
    # PostgreSQL was down (pool_pre_ping replaces the dead pooled connections,
    # so none is sent after it is back), and they are no more than the
    # requests that met the outage (counted and printed).
    assert not late, summary
    assert all(r[1] >= down for r in failed), summary
    met = [r for r in records if r[0] <= up and r[1] >= down]
    assert len(failed) <= len(met), summary
    # Every acknowledged registration is stored.
    stored = set(kit.psql(host, f"SELECT email FROM users WHERE email LIKE 'debian+pgload-{tag}-%'").split())
    lost = {r[4] for r in acked} - stored
    assert not lost, f"acknowledged but not in the database: {lost}; {summary}"


def test_an_open_relay_attempt_from_the_internet_is_refused(host):
    target = outside.domain(host)
    res = outside.run("swaks", "--server", target, "--port", "25", "--timeout", "5",
                      "--from", "spammer@example.net", "--to", "victim@example.org",
                      "--quit-after", "RCPT")
    assert res.returncode != 0, res.stdout
    assert re.search(r"(refused|timed out|Timeout|No route)", res.stdout + res.stderr, re.I), \
        res.stdout + res.stderr
    # Nothing was queued for the outside domain on the host.
    assert "victim@example.org" not in kit.sudo(host, "postqueue -p").stdout
