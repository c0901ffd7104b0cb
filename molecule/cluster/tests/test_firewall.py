"""Each host opens what its group needs and nothing else. From the internet:
the balancer shows 22/80/443, the web and database hosts 22 only. Inside the
private network: PostgreSQL answers the web hosts only (and only over TLS),
the web hosts' app port answers the balancers only."""

import pytest

import outside
from conftest import address, group, healthz, host, lb_name, reach

testinfra_hosts = [lb_name()]
APP_PORT = 8080


def open_ports(name):
    listed, _, _ = outside.scan(address(name))
    return {port for port, state in listed.items() if state == "open"}


def test_outside_scan_of_the_balancer_finds_ssh_and_web_only():
    assert open_ports(lb_name()) == {22, 80, 443}


@pytest.mark.parametrize("role", ["web", "database"])
def test_outside_scan_of_the_private_hosts_finds_ssh_only(role):
    for name in group(role):
        assert open_ports(name) == {22}, name


def test_postgresql_answers_the_web_hosts_only():
    db = address(group("database")[0])
    for name in group("web"):
        assert reach(name, db, 5432), f"{name} cannot reach PostgreSQL"
    assert not reach(lb_name(), db, 5432), "the balancer reaches PostgreSQL"


def test_the_app_port_answers_the_balancers_only():
    for name in group("web"):
        assert reach(lb_name(), address(name), APP_PORT), f"the balancer cannot reach {name}"
        others = [n for n in group("web") + group("database") if n != name]
        for other in others:
            assert not reach(other, address(name), APP_PORT), f"{other} reaches {name}:{APP_PORT}"


def db_login(web, sslmode, password="not-the-password"):
    """A login attempt from a web host with the release's own driver (psycopg)."""
    db = address(group("database")[0])
    code = ("import psycopg\n"
            f"try:\n    psycopg.connect(host='{db}', dbname='flasky', user='flasky', password='{password}',"
            f" sslmode='{sslmode}', connect_timeout=5)\n"
            "except Exception as e:\n    print(e)\n")
    with host(web).sudo():
        return host(web).check_output(f"/srv/flasky/current/venv/bin/python -c \"{code}\"")


def test_database_logins_over_the_network_need_tls():
    web = group("web")[0]
    # Without TLS there is no pg_hba entry at all for the web host...
    assert "no encryption" in db_login(web, "disable")
    # ...with TLS the server gets as far as the password (SCRAM) and refuses a wrong one.
    assert "password authentication failed" in db_login(web, "require")


def test_the_app_connects_over_tls():
    for _ in range(8):  # every web host has served, so each holds pooled connections
        healthz()
    db = group("database")[0]
    with host(db).sudo():
        rows = host(db).check_output(
            "runuser -u postgres -- psql -tAc \"SELECT a.client_addr, s.ssl FROM pg_stat_ssl s "
            "JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'flasky' AND a.client_addr IS NOT NULL\"")
    web_addresses = {address(n) for n in group("web")}
    seen = {line.split("|")[0]: line.split("|")[1] for line in rows.splitlines() if "|" in line}
    assert seen, "no app connection from a web host"
    assert set(seen) <= web_addresses, seen
    assert set(seen.values()) == {"t"}, seen
