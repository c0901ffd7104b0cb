"""The disk-loss drill: the database host loses its data disk while the app
writes, and is rebuilt from the backup host alone.

- a writer commits a row every ~0.1 s on db1 and logs every commit it was
  told of (outside the lost disk);
- after more than archive_timeout of writes, the postgres processes die and
  /var/lib/postgresql (the cluster, the postgres user's home and SSH keys)
  is gone;
- `site.yml --tags postgres,pgbackrest` makes a new, empty cluster there and
  says so (and leaves the standby, which follows the lost cluster, alone);
  `restore.yml` then restores the lost cluster from backup1;
- every acknowledged row up to the last archived one is back, with no hole;
  the seconds of writes lost are printed and must be at most
  archive_timeout (plus the few seconds an archive push takes); the site
  answers, the standby streams again and backups work again.
"""

import re
import time

from conftest import group, healthz, host, playbook, sql

testinfra_hosts = [group("database")[0]]
DB = group("database")[0]
STANDBY = group("database_replica")[0]
REPO = group("backup")[0]
STANZA = "flasky"
LOG = "/var/tmp/disk-drill.log"
# An archive push takes a moment after the segment switch.
PUSH_SLACK = 5


def seconds(setting):
    """A time setting as PostgreSQL shows it (1min, 20s) in seconds."""
    value, unit = re.fullmatch(r"(\d+)(ms|s|min|h)?", setting).groups()
    return int(value) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600, None: 1}[unit]


def test_a_lost_data_disk_is_rebuilt_from_the_backup_host():
    db = host(DB)
    timeout = seconds(sql(DB, "SHOW archive_timeout"))
    sql(DB, "DROP DATABASE IF EXISTS disklost")
    sql(DB, "CREATE DATABASE disklost")
    sql(DB, "CREATE TABLE w (n serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())", "disklost")
    # The writer runs on db1 and logs each commit psql reports, to a file
    # outside /var/lib/postgresql; it stops at the first failure.
    db.run(f"sudo rm -f {LOG}")
    writer = (f"while psql -XAtq -d disklost -c 'INSERT INTO w DEFAULT VALUES RETURNING n, extract(epoch FROM at)' "
              f">> {LOG} 2>/dev/null; do sleep 0.1; done")
    res = db.run(f"sudo -u postgres setsid -f bash -c \"{writer}\" </dev/null >/dev/null 2>&1")
    assert res.rc == 0, res.stderr
    # Long enough that archive_timeout switched segments while it wrote.
    time.sleep(timeout + 10)
    assert db.run("sudo pkill -KILL -x postgres").rc == 0
    res = db.run("sudo rm -rf /var/lib/postgresql")
    assert res.rc == 0, res.stderr
    lost_at = time.time()
    time.sleep(1)
    assert not db.file("/var/lib/postgresql").exists

    acked = {}
    for line in db.run(f"cat {LOG}").stdout.split():
        n, at = line.split("|")
        acked[int(n)] = float(at)
    assert len(acked) >= 2 * timeout, f"the writer wrote only {len(acked)} rows"
    last_acked = max(acked.values())
    assert lost_at - last_acked < 5, "the writer had stopped before the disk was lost"

    # Rebuild: a new, empty cluster; the standby of the lost one is left alone.
    rc, out = playbook("site.yml", "--tags", "postgres,pgbackrest")
    text = re.sub(r"\s+", " ", out)
    assert rc == 0, out[-4000:]
    assert re.search(rf"WARNING: {DB} had no database cluster in \S+ \(a lost disk\?\): it has a new, empty one",
                     text), out[-4000:]
    assert f"is not the one the repository holds" in text, out[-4000:]
    assert re.search(rf"WARNING: the standby {STANDBY} is a copy of another database cluster", text), out[-4000:]
    assert sql(DB, "SELECT count(*) FROM pg_database WHERE datname = 'disklost'") == "0"

    rc, out = playbook("playbooks/restore.yml", "-e", f"restore_confirm={DB}")
    assert rc == 0, out[-4000:]
    assert re.search(r"Timeline: from a new cluster \(not the one backed up\) to \d+", re.sub(r"\s+", " ", out)), \
        out[-3000:]

    restored = {}
    for line in sql(DB, "SELECT n, extract(epoch FROM at) FROM w ORDER BY n", "disklost").split():
        n, at = line.split("|")
        restored[int(n)] = float(at)
    assert restored, "no row written during the drill came back"
    last_restored = max(restored.values())
    # Every acknowledged row up to the last one restored is back, no hole;
    # nothing comes back that was not written (at most the one commit whose
    # answer psql had no time to log).
    missing = [n for n, at in acked.items() if at <= last_restored and n not in restored]
    assert not missing, f"acknowledged rows missing before the recovery point: {missing[:20]}"
    unknown = [n for n in restored if n not in acked]
    assert len(unknown) <= 1 and all(n > max(acked) for n in unknown), unknown
    lost = last_acked - last_restored
    print(f"\ndisk loss: {len(restored)} of {len(acked)} acknowledged rows restored; "
          f"{lost:.1f} s of writes lost (archive_timeout {timeout:g} s)")
    assert 0 <= lost <= timeout + PUSH_SLACK, f"{lost:.1f} s of writes lost, more than archive_timeout {timeout:g} s"

    # The site works on the restored database, the standby follows it again,
    # and the repository takes its WAL again.
    health = healthz()
    assert health["status"] == "ok" and health["database"] is True, health
    assert sql(DB, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"
    res = host(REPO).run(f"sudo -u postgres pgbackrest --stanza={STANZA} check")
    assert res.rc == 0, res.stdout + res.stderr
    sql(DB, "DROP DATABASE disklost")
