"""Layouts the playbooks cannot serve fail in the preflight, with the fix in
the message, before any host changes: several web hosts without a balancer,
a second database host without replication, a web host that cannot reach
its database's port, no passphrase for the backup repository, a standby
without a primary or without a replication password."""

import hashlib
import re
from pathlib import Path

import pytest
import yaml

import kit
from conftest import group, host, playbook

testinfra_hosts = [group("web")[0]]
# What a run would change first on each kind of host.
WATCHED = "cat /etc/nginx/snippets/flasky-pool.conf /etc/nginx/sites-enabled/flasky.conf 2>/dev/null; " \
          "ufw status verbose; cat /etc/postgresql/*/main/pg_hba.conf 2>/dev/null; " \
          "cat /etc/supervisor/conf.d/*.conf /etc/pgbackrest.conf 2>/dev/null; dpkg-query -W -f '${Package} ${Version}\\n'"


def fingerprint():
    out = {}
    for name in group("all"):
        h = host(name)
        with h.sudo():
            out[name] = hashlib.sha256(h.check_output(WATCHED).encode()).hexdigest()
    return out


def inventory(change):
    current = Path(kit.inventory())
    data = yaml.safe_load(current.read_text())
    change(data)
    path = current.parent / "bad-layout.yml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def without_balancer(data):
    for name in data.pop("loadbalancer")["hosts"]:
        for members in [data["all"]] + [g for g in data.values() if isinstance(g, dict)]:
            (members.get("hosts") or {}).pop(name, None)


def second_database(data):
    data["database"]["hosts"][group("loadbalancer")[0]] = {}


def no_primary(data):
    data["database"]["hosts"] = {}


CASES = {
    "several web hosts, no balancer": (
        "site.yml", without_balancer, [],
        [r"no loadbalancer group", r"Add a loadbalancer group"]),
    "two database hosts, no replication": (
        "site.yml", second_database, [],
        [r"in the database group but no web\s+host uses it", r"Keep one host in the database group; put a hot standby in the database_replica group"]),
    "a standby without a primary": (
        "site.yml", no_primary, [],
        [r"database_replica group \(flasky-cluster-db2\) needs exactly one primary", r"which has 0"]),
    "standbys without a replication password": (
        "site.yml", None, ["-e", "vault_postgres_replication_password="],
        [r"vault_postgres_replication_password is not set", r"ansible-vault edit"]),
    "no passphrase for the backup repository": (
        "site.yml", None, ["-e", "vault_pgbackrest_cipher_pass="],
        [r"vault_pgbackrest_cipher_pass is not set", r"ansible-vault edit"]),
    "a web host cannot reach the database port": (
        "playbooks/deploy.yml", None, ["-e", "app_db_port=5999"],
        [r"cannot reach its database host", r"Check app_db_port"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_layout_fails_in_the_preflight_and_changes_nothing(case):
    book, change, extra, messages = CASES[case]
    inv = inventory(change) if change else None
    before = fingerprint()
    try:
        rc, out = playbook(book, *extra, inv=inv)
    finally:
        if inv:
            Path(inv).unlink(missing_ok=True)
    assert rc != 0, out[-3000:]
    first_failure = re.search(r"^(fatal|failed): \[", out, re.M)  # (a loop item reports "failed:")
    assert first_failure, out[-3000:]
    failed_task = re.findall(r"^TASK \[([^\]]+)\]", out[:first_failure.start()], re.M)[-1]
    assert failed_task.startswith("preflight : "), failed_task
    text = re.sub(r"\s+", " ", out)
    for message in messages:
        assert re.search(message, text), f"{message!r} not in:\n{out[-3000:]}"
    assert not re.search(r"changed=[1-9]", out), out[-3000:]
    assert fingerprint() == before, "the failed run changed a host"
