"""Continuous backups (pgBackRest) with the repository on the backup host:

- WAL reaches the repository on backup1 continuously, the backup timers are
  installed and their service takes a real backup when started;
- the point-in-time drill: rows written, the time noted, more rows written;
  restore.yml to the noted time brings back exactly the first rows (the site
  shows its maintenance page meanwhile and comes back); restore.yml to the
  latest state of the old timeline brings back all of them;
- restore.yml refuses, before changing anything, to run without its
  confirmation, to a target before the oldest backup, in the future, or one
  PostgreSQL cannot read.
"""

import json
import re
import time

import pytest

import conftest
from conftest import Load, group, host, playbook

testinfra_hosts = [group("database")[0]]
DB = group("database")[0]
REPO = group("backup")[0]
STANZA = "flasky"


def sql(query, database="postgres"):
    return conftest.sql(DB, query, database)


def info():
    repo = host(REPO)
    res = repo.run(f"sudo -u postgres pgbackrest --stanza={STANZA} --output=json info")
    assert res.rc == 0, res.stderr
    return json.loads(res.stdout)[0]


def postmaster_started():
    return sql("SELECT pg_postmaster_start_time()")


def test_the_repository_is_on_the_backup_host_encrypted_and_receives_wal():
    repo, db = host(REPO), host(DB)
    state = info()
    assert state["status"]["code"] == 0, state["status"]
    assert state["cipher"] == "aes-256-cbc"
    assert state["backup"], "no backup in the repository"
    # The database host keeps no repository and no passphrase: it reaches backup1.
    assert not db.file("/var/lib/pgbackrest/archive").exists
    conf = db.run("sudo cat /etc/pgbackrest.conf").stdout
    assert "repo1-host=" in conf and "cipher-pass" not in conf, conf
    # A WAL switch reaches backup1 within seconds.
    # Some WAL in the current segment (a commit), its name, then the switch
    # that completes it.
    sql("SELECT txid_current()")
    switched = sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
    sql("SELECT pg_switch_wal()")
    deadline = time.time() + 30
    while time.time() < deadline:
        if sql("SELECT last_archived_wal FROM pg_stat_archiver") >= switched:
            break
        time.sleep(1)
    assert sql("SELECT last_archived_wal FROM pg_stat_archiver") >= switched
    # No failed attempt since the last success (the counters are cumulative).
    assert sql("SELECT last_failed_time IS NULL OR last_failed_time < last_archived_time FROM pg_stat_archiver") == "t"
    archived = repo.run(f"sudo find /var/lib/pgbackrest/archive/{STANZA} -name '{switched}*'")
    assert archived.stdout.strip(), f"{switched} is not in the repository on {REPO}"
    # The scenario's own value (not the default 60 s) reached the server.
    assert sql("SHOW archive_timeout") == "20s"


def test_the_backup_timers_take_real_backups():
    repo = host(REPO)
    for kind in ("full", "diff"):
        assert repo.service(f"pgbackrest-{kind}.timer").is_enabled
        assert repo.run(f"systemctl is-active pgbackrest-{kind}.timer").stdout.strip() == "active"
    before = {b["label"] for b in info()["backup"]}
    res = repo.run("sudo systemctl start pgbackrest-diff.service")
    assert res.rc == 0, res.stderr + repo.run("sudo journalctl -u pgbackrest-diff.service -n 30 --no-pager").stdout
    new = [b for b in info()["backup"] if b["label"] not in before]
    assert [b["type"] for b in new] == ["diff"], new


def restore(*extra):
    return playbook("playbooks/restore.yml", *extra)


def drill_rows():
    return sql("SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM drill", database="drill")


def test_point_in_time_restore_then_back_to_the_latest():
    sql("DROP DATABASE IF EXISTS drill")
    sql("CREATE DATABASE drill")
    sql("CREATE TABLE drill (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())", "drill")
    sql("INSERT INTO drill (n) SELECT generate_series(1, 5)", "drill")
    time.sleep(1.5)
    target = sql("SELECT replace(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), ' ', 'T') || '+00'")
    time.sleep(1.5)
    sql("INSERT INTO drill (n) SELECT generate_series(6, 10)", "drill")
    assert drill_rows() == "1,2,3,4,5,6,7,8,9,10"
    started = postmaster_started()

    with Load(path="/", clients=2, pace=0.5) as load:
        rc, out = restore("-e", f"restore_confirm={DB}", "-e", f"restore_target={target}")
        time.sleep(2)
    assert rc == 0, out[-4000:]
    assert postmaster_started() != started, "the server was not restarted"
    assert drill_rows() == "1,2,3,4,5", "the point-in-time restore did not stop at the target"
    timelines = re.search(r"Timeline:\s+from\s+(\d+)\s+to\s+(\d+)", out)
    assert timelines, out[-2000:]
    old, new = timelines.groups()
    assert int(new) > int(old)
    # Meanwhile the outside saw the maintenance page, and the site came back.
    statuses = [r[2] for r in load.result["records"]]
    assert 503 in statuses, f"no maintenance page seen: {sorted(set(map(str, statuses)))}"
    assert statuses[-1] == 200 and all(s == 200 for s in statuses[-4:]), statuses[-10:]
    assert not host(group("loadbalancer")[0]).file("/srv/flasky/shared/maintenance.on").exists

    rc, out = restore("-e", f"restore_confirm={DB}", "-e", f"restore_timeline={old}")
    assert rc == 0, out[-4000:]
    assert drill_rows() == "1,2,3,4,5,6,7,8,9,10", "the latest state of the old timeline is not back"
    sql("DROP DATABASE drill")


def oldest_backup_stop():
    return min(b["timestamp"]["stop"] for b in info()["backup"])


@pytest.mark.parametrize("case", ["no confirmation", "wrong host confirmed", "before the oldest backup",
                                  "in the future", "not a time"])
def test_restore_refuses_bad_requests_and_changes_nothing(case):
    before_oldest = time.strftime("%Y-%m-%dT%H:%M:%S+00", time.gmtime(oldest_backup_stop() - 3600))
    extra, message = {
        "no confirmation": ([], r"run again with -e restore_confirm=" + DB),
        "wrong host confirmed": (["-e", "restore_confirm=db9"], r"run again with -e restore_confirm=" + DB),
        "before the oldest backup": (["-e", f"restore_confirm={DB}", "-e", f"restore_target={before_oldest}"],
                                     r"is before the oldest backup, which ended at"),
        "in the future": (["-e", f"restore_confirm={DB}", "-e", "restore_target=2099-01-01T00:00:00+00"],
                          r"is in the future"),
        "not a time": (["-e", f"restore_confirm={DB}", "-e", "restore_target=yesterday-ish"],
                       r"is not a time PostgreSQL understands"),
    }[case]
    started = postmaster_started()
    rc, out = restore(*extra)
    assert rc != 0, out[-3000:]
    text = re.sub(r"\s+", " ", out)
    assert re.search(message, text, re.I), f"{message!r} not in:\n{out[-3000:]}"
    assert not re.search(r"changed=[1-9]", out), out[-3000:]
    assert postmaster_started() == started
    assert not host(group("loadbalancer")[0]).file("/srv/flasky/shared/maintenance.on").exists
