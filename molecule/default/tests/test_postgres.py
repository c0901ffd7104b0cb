"""PostgreSQL: the application's database, its password login, nightly dumps that restore."""

import uuid

import pytest

DB = "flasky"
USER = "flasky"
DUMP_COMMAND = "/usr/local/sbin/flasky-pg-dump"
DUMP_UNIT = "flasky-pg-dump"
BACKUP_DIR = "/var/backups/postgresql/flasky"


@pytest.fixture(scope="module")
def password(host):
    # The password the playbook used, from the decrypted vault of the inventory.
    return host.ansible.get_variables()["vault_app_db_password"]


def app_psql(host, password, sql, db=DB):
    """Log in over TCP to 127.0.0.1 the way the application does."""
    return host.run(
        "PGPASSWORD=%s psql -X -w -h 127.0.0.1 -p 5432 -U %s -d %s -v ON_ERROR_STOP=1 -tAc %s",
        password, USER, db, sql)


def admin_psql(host, sql, db="postgres"):
    with host.sudo("postgres"):
        return host.check_output("psql -X -d %s -v ON_ERROR_STOP=1 -tAc %s", db, sql)


def test_cluster_enabled_and_online(host):
    assert host.service("postgresql").is_enabled
    clusters = host.check_output("pg_lsclusters --no-header").splitlines()
    assert clusters, "no cluster"
    version, name, port, status = clusters[0].split()[:4]
    assert (name, port, status) == ("main", "5432", "online")
    unit = host.service(f"postgresql@{version}-main")
    assert unit.is_running
    # Debian starts a cluster at boot through postgresql.service: its systemd
    # generator makes postgresql.service want postgresql@VERSION-main for each
    # cluster whose start.conf says "auto" (the instance unit itself is never
    # "enabled", so asking it would prove nothing).
    start = host.file(f"/etc/postgresql/{version}/main/start.conf").content_string
    assert [line.strip() for line in start.splitlines() if line.strip() and not line.startswith("#")] == ["auto"]
    wants = host.check_output("systemctl show -P Wants postgresql.service").split()
    assert f"postgresql@{version}-main.service" in wants, wants


def test_debian_version_of_the_release(host):
    expected = {"12": "15", "13": "17"}[host.system_info.release.split(".")[0]]
    assert host.package(f"postgresql-{expected}").is_installed


def test_listens_on_loopback_only(host):
    listening = [s for s in host.socket.get_listening_sockets() if s.endswith(":5432")]
    assert "tcp://127.0.0.1:5432" in listening
    assert set(listening) <= {"tcp://127.0.0.1:5432", "tcp://::1:5432"}, listening


def test_app_logs_in_with_the_vault_password(host, password):
    result = app_psql(host, password, "SELECT current_user || ' ' || current_database()")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == f"{USER} {DB}"


def test_wrong_password_is_refused(host, password):
    result = app_psql(host, password + "x", "SELECT 1")
    assert result.rc != 0
    assert "password authentication failed" in result.stderr


def test_password_stored_as_scram(host):
    stored = admin_psql(host, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{USER}'")
    assert stored.startswith("SCRAM-SHA-256$")
    assert admin_psql(host, "SHOW password_encryption") == "scram-sha-256"


def test_app_role_owns_its_database_and_nothing_more(host):
    flags = admin_psql(host, f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '{USER}'")
    assert flags == "f|f|f"
    assert admin_psql(host, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{DB}'") == USER


def test_nightly_dump_timer_enabled(host):
    timer = host.service(f"{DUMP_UNIT}.timer")
    assert timer.is_enabled
    assert timer.is_running
    assert host.check_output("systemctl show -P Persistent %s.timer", DUMP_UNIT) == "yes"


def newest_dump(host):
    with host.sudo():
        return host.check_output("ls -1t %s/%s-*.dump | head -n1", BACKUP_DIR, DB)


def test_nightly_dump_restores_into_a_scratch_database(host, password):
    token = uuid.uuid4().hex
    scratch = f"restore_check_{token[:8]}"
    created = app_psql(host, password, f"CREATE TABLE backup_probe (token text); INSERT INTO backup_probe VALUES ('{token}')")
    assert created.rc == 0, created.stderr
    try:
        with host.sudo():
            host.check_output("systemctl start %s.service", DUMP_UNIT)
        dump = newest_dump(host)
        assert dump.endswith("-nightly.dump")
        with host.sudo("postgres"):
            host.check_output("createdb %s", scratch)
            host.check_output("pg_restore --no-owner -d %s %s", scratch, dump)
        assert admin_psql(host, "SELECT token FROM backup_probe", db=scratch) == token
    finally:
        with host.sudo("postgres"):
            host.run("dropdb --if-exists %s", scratch)
        app_psql(host, password, "DROP TABLE IF EXISTS backup_probe")


def test_nightly_dump_deletes_dumps_past_retention(host):
    old = f"{BACKUP_DIR}/{DB}-20000101T000000Z-nightly.dump"
    with host.sudo("postgres"):
        host.check_output("touch -d '40 days ago' %s", old)
    with host.sudo():
        host.check_output("systemctl start %s.service", DUMP_UNIT)
    assert not host.file(old).exists


def test_dump_command_for_the_deploy(host):
    with host.sudo():
        path = host.check_output("%s pre-migrate-test", DUMP_COMMAND)
        assert path.startswith(f"{BACKUP_DIR}/{DB}-") and path.endswith("-pre-migrate-test.dump")
        dump = host.file(path)
        assert dump.user == "postgres" and dump.mode == 0o600
        assert host.run("pg_restore --list %s", path).rc == 0
        host.check_output("rm -f %s", path)
        assert host.run("%s 'bad label'", DUMP_COMMAND).rc == 2
