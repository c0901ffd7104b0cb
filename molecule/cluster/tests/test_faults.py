"""Hosts fail under an outside load of 16 concurrent clients:

- a web host stopped (docker stop): the balancer sends every GET to the other
  one, not one fails; started again, it rejoins by itself and serves;
- the database host restarted: the app comes back by itself, and every
  registration the site acknowledged before, during and after is in the
  database.
"""

import subprocess
import time
import uuid

import outside
from conftest import BASE, DOMAIN, Load, group, healthz, host, hosts_seen, summary

testinfra_hosts = [group("database")[0]]


def docker(*args):
    res = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    return res.stdout


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return time.time()
        time.sleep(1)
    raise AssertionError(f"not within {timeout} s: {what}")


def serves(name):
    try:
        return name in {healthz()["host"] for _ in range(8)}
    except (AssertionError, ValueError):
        return False


def test_a_stopped_web_host_costs_no_request_and_rejoins_by_itself():
    victim = group("web")[-1]
    with Load() as load:
        time.sleep(3)
        stopped = time.time()
        docker("stop", victim)
        time.sleep(20)  # longer than the pool's fail_timeout: the balancer tries it again meanwhile
        docker("start", victim)
        rejoined = wait_for(lambda: serves(victim), 120, f"{victim} serves again")
        time.sleep(3)
    result = load.result
    assert result["failed"] == 0, summary(result)
    assert hosts_seen(result, stopped + 2, stopped + 20) == set(group("web")) - {victim}, summary(result)
    assert victim in hosts_seen(result, since=rejoined - 1), "the restarted host got no traffic"


def register(tag):
    email = f"cluster+{tag}@{DOMAIN}"
    try:
        reg = outside.client("register", BASE, email, f"user_{tag}", f"pw-{tag}-Secret!", timeout=60)
    except AssertionError:  # the request itself failed: not acknowledged
        return None
    acknowledged = reg["status"] == 200 and any("confirmation" in f.lower() for f in reg["flashes"])
    return email if acknowledged else None


def psql(db, sql):
    with db.sudo():
        return db.check_output(f"runuser -u postgres -- psql -d flasky -tAc \"{sql}\"").strip()


def test_a_database_restart_under_load_loses_no_acknowledged_write():
    db = host(group("database")[0])
    started_before = psql(db, "SELECT pg_postmaster_start_time()")
    acknowledged, attempts = [], 0
    with Load() as load:
        for _ in range(3):
            attempts += 1
            acknowledged.append(register(uuid.uuid4().hex[:10]))
        restart = time.time()
        docker("restart", group("database")[0])
        # Writes while the database host boots: refused or acknowledged, never lost.
        while time.time() - restart < 25:
            attempts += 1
            acknowledged.append(register(uuid.uuid4().hex[:10]))
        recovered = wait_for(lambda: healthz()["status"] == "ok", 120, "the site is healthy again")
        for _ in range(3):
            attempts += 1
            acknowledged.append(register(uuid.uuid4().hex[:10]))
        time.sleep(5)
    result = load.result
    assert psql(db, "SELECT pg_postmaster_start_time()") != started_before, "PostgreSQL did not restart"
    acked = [e for e in acknowledged if e]
    assert len(acked) >= 6, f"only {len(acked)} of {attempts} registrations acknowledged"
    stored = set(psql(db, "SELECT email FROM users WHERE email LIKE 'cluster+%'").split())
    assert set(acked) <= stored, f"acknowledged but lost: {set(acked) - stored}"
    # The app recovered by itself: everything after recovery answered.
    after = [r for r in result["records"] if r[0] > recovered + 2]
    assert after and all(r[2] == 200 for r in after), summary(result)
    failed = [r for r in result["records"] if r[2] != 200]
    print(f"database restart: {len(failed)} of {result['requests']} requests failed, "
          f"recovered {recovered - restart:.1f} s after the restart began")
    assert all(restart - 1 <= r[0] <= recovered + 2 for r in failed), summary(result)
