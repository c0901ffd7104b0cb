"""The hot standby and the operator's failover (last: it leaves db2 the primary).

- db2 streams from db1 through its slot, read-only, over TLS;
- failover drill under an outside load: rows are written on db1, db1's
  PostgreSQL stops, failover.yml -e failover_confirm=db2 fences db1,
  promotes db2 and moves the web hosts to it; the site answers again, every
  row written before the stop is there, db1 cannot start by itself; the
  failed requests and the seconds without a working site are printed;
- failover.yml refuses without its confirmation, changing nothing.
"""

import re
import time

from conftest import Load, group, host, playbook, sql, summary

testinfra_hosts = [group("database")[0]]
PRIMARY = group("database")[0]
STANDBY = group("database_replica")[0]


def test_the_standby_streams_through_its_slot_read_only():
    assert sql(STANDBY, "SELECT pg_is_in_recovery()") == "t"
    assert sql(STANDBY, "SELECT status FROM pg_stat_wal_receiver") == "streaming"
    senders = sql(PRIMARY, "SELECT application_name, state, ssl FROM pg_stat_replication "
                           "JOIN pg_stat_ssl USING (pid)")
    assert re.search(r"\|streaming\|t$", senders, re.M), senders
    slot = sql(PRIMARY, "SELECT slot_name, active FROM pg_replication_slots")
    assert slot.endswith("|t") and "standby_" in slot, slot
    refused = host(STANDBY).run("sudo -u postgres psql -XAt -d flasky -c 'CREATE TABLE nope (n int)'")
    assert refused.rc != 0 and "read-only" in refused.stderr, refused.stderr


def test_failover_refuses_without_confirmation_and_changes_nothing():
    rc, out = playbook("playbooks/failover.yml")
    assert rc != 0, out[-3000:]
    assert re.search(r"run again with -e failover_confirm=<one of: " + STANDBY, re.sub(r"\s+", " ", out)), out[-3000:]
    assert not re.search(r"changed=[1-9]", out), out[-3000:]
    assert sql(STANDBY, "SELECT pg_is_in_recovery()") == "t"
    assert sql(PRIMARY, "SELECT pg_is_in_recovery()") == "f"


def test_failover_drill_under_load():
    sql(PRIMARY, "CREATE TABLE IF NOT EXISTS failover_drill (n int PRIMARY KEY)", "flasky")
    sql(PRIMARY, "INSERT INTO failover_drill SELECT generate_series(1, 100) ON CONFLICT DO NOTHING", "flasky")
    with Load() as load:
        time.sleep(3)
        stopped = time.time()
        host(PRIMARY).run("sudo systemctl stop postgresql@15-main")
        time.sleep(3)
        started = time.time()
        rc, out = playbook("playbooks/failover.yml", "-e", f"failover_confirm={STANDBY}")
        ended = time.time()
        time.sleep(5)
    assert rc == 0, out[-5000:]
    result = load.result
    records = result["records"]
    bad = [r for r in records if r[2] != 200]
    back = min((r[0] for r in records if r[0] > stopped and r[2] == 200 and
                all(x[2] == 200 for x in records if x[0] >= r[0])), default=None)
    assert back is not None, summary(result)
    print(f"\nfailover: playbook {ended - started:.1f} s; site without a working database for "
          f"{back - stopped:.1f} s from the stop ({back - started:.1f} s from the playbook's start); "
          f"{len(bad)} of {len(records)} requests failed")
    for line in re.findall(r"(Promoted \S+\..*?opened\).*?was \w+\.|answered its health check.*?started\.)",
                           re.sub(r"\s+", " ", out)):
        print("  " + line)
    # The promoted host has every row written before the stop, and takes writes.
    assert sql(STANDBY, "SELECT pg_is_in_recovery()") == "f"
    assert sql(STANDBY, "SELECT count(*) FROM failover_drill", "flasky") == "100"
    sql(STANDBY, "INSERT INTO failover_drill VALUES (101)", "flasky")
    # The web hosts use it; the old primary is fenced.
    standby_address = host(STANDBY).interface("eth0").addresses[0]
    for name in group("web"):
        env = host(name).run("sudo cat /srv/flasky/current/.env").stdout
        assert f"@{standby_address}:" in env or f"@{standby_address}/" in env, f"{name} does not use {STANDBY}"
    fenced = host(PRIMARY).run("systemctl is-enabled postgresql@15-main").stdout.strip()
    assert fenced == "masked", fenced
    assert host(PRIMARY).run("sudo systemctl start postgresql@15-main").rc != 0
    # The load ran throughout and ends on answers from the promoted database.
    assert all(r[2] == 200 for r in records if r[0] > ended), summary(result)
    assert "Lag at promotion" in out and re.search(r"Promoted " + STANDBY, out)
