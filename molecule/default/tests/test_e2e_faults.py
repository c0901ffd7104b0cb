"""Faults, on the first web host: the site keeps serving or comes back, and
nothing is lost.

- a release whose migration fails: the database is unchanged (PostgreSQL
  rolls the whole migration back), the old release keeps serving, the run
  fails naming the command and the release;
- PostgreSQL restarted under traffic from the internet: nginx and gunicorn
  never stop answering, pages come back by themselves, no data is lost;
- an open-relay attempt from the internet: nothing even listens for it.
"""

import re
import time

import kit
import outside

testinfra_hosts = [kit.first_web_host_name()]

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

    rc, out = kit.playbook("playbooks/deploy.yml", name, "-e", f"flasky_app_src_dir={app}")

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


def test_postgresql_restart_under_traffic(host):
    users_before = kit.psql(host, "SELECT count(*) FROM users")
    url = f"https://{outside.domain(host)}/"
    # A bounded load from the internet: one request every 0.1 s for 20 s.
    loop = (f"end=$(($(date +%s) + 20)); while [ $(date +%s) -lt $end ]; do "
            f"curl -s -o /dev/null --max-time 5 --cacert {outside.ROOT_CA} -w '%{{http_code}}\\n' {url}; "
            f"sleep 0.1; done > /tmp/pg-restart-codes")
    outside.run("sh", "-c", "rm -f /tmp/pg-restart-codes")
    import subprocess
    load = subprocess.Popen(["docker", "exec", outside.INTERNET, "sh", "-c", loop])
    time.sleep(4)
    restarted_at = time.time()
    assert kit.sudo(host, "systemctl restart postgresql").rc == 0
    load.wait(timeout=60)
    codes = outside.run("cat", "/tmp/pg-restart-codes").stdout.split()
    assert len(codes) > 50, codes
    # nginx and gunicorn never stopped answering: no connection errors at all.
    assert "000" not in codes, codes
    # Pages came back by themselves (pool_pre_ping replaces dead connections):
    # the last third of the run, well after the restart, is all 200.
    tail = codes[-len(codes) // 3:]
    assert set(tail) == {"200"}, f"restart at {restarted_at}: {codes}"
    assert kit.psql(host, "SELECT count(*) FROM users") == users_before


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
