"""Continuous backups on a one-host site (no backup group): the pgBackRest
repository sits on the host itself, encrypted, WAL reaches it, the timers
are active, and every run says that one lost disk loses both."""

import json
import re
import time

import kit


def pg(host, sql):
    res = kit.sudo(host, f"runuser -u postgres -- psql -XAtc \"{sql}\"")
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def test_the_local_repository_is_encrypted_and_receives_wal(host):
    res = kit.sudo(host, "runuser -u postgres -- pgbackrest --stanza=flasky --output=json info")
    assert res.rc == 0, res.stderr
    info = json.loads(res.stdout)[0]
    assert info["status"]["code"] == 0, info["status"]
    assert info["cipher"] == "aes-256-cbc"
    assert [b["type"] for b in info["backup"]][:1] == ["full"], info["backup"]
    # Some WAL in the current segment (a commit), its name, then the switch
    # that completes it (pg_walfile_name of the switch's own result differs
    # between PostgreSQL 15 and 17 at a segment boundary).
    pg(host, "SELECT txid_current()")
    switched = pg(host, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    pg(host, "SELECT pg_switch_wal()")
    deadline = time.time() + 30
    while pg(host, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < switched and time.time() < deadline:
        time.sleep(1)
    assert pg(host, "SELECT last_archived_wal FROM pg_stat_archiver") >= switched
    # No failed attempt since the last success (the counters are cumulative).
    assert pg(host, "SELECT last_failed_time IS NULL OR last_failed_time < last_archived_time FROM pg_stat_archiver") == "t"
    for kind in ("full", "diff"):
        assert host.service(f"pgbackrest-{kind}.timer").is_enabled
        assert host.run(f"systemctl is-active pgbackrest-{kind}.timer").stdout.strip() == "active"
    # The passphrase is in a file only postgres and root read.
    conf = host.file("/etc/pgbackrest.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "postgres", 0o640)


def test_a_run_warns_that_the_backups_share_the_disk_and_changes_nothing(host):
    name = host.backend.get_hostname()
    rc, out = kit.playbook("playbooks/provision.yml", name, "--tags", "pgbackrest")
    assert rc == 0, out[-3000:]
    # (The output's lines may be wrapped: any whitespace between the words.)
    words = r"WARNING: the pgBackRest repository is on the database host {} itself: a lost disk loses the database"
    pattern = r"\s+".join(words.split()).format(re.escape(name))
    assert re.search(pattern, out), out[-3000:]
    assert re.search(rf"{re.escape(name)}\s*:.*changed=0\b", out), out[-3000:]
