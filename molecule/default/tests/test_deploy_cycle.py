"""The deploy cycle with a second version of the app (LONG: several deploys).

On every web host of the scenario (Debian 12 and 13, each a site of its
own) at once, with ansible-playbook against the scenario's own inventory
(MOLECULE_INVENTORY_FILE):

1. a modified copy of app/ (a new page text and an expand migration) deploys:
   a new release, a dump before the migration, the schema at the new head,
   the switch to the other color;
2. rollback.yml brings the previous release back (the schema stays);
3. a broken copy (its WSGI module raises) fails its health check: the deploy
   fails saying where the logs are, nginx is not switched, the old release
   keeps answering, the broken program is stopped;
4. cleanup: the schema goes back to the original head and a plain deploy of
   the original app is a no-op (changed=0): the host is as it was;
5. the same new version deployed as "another Flask-Migrate app" (no
   migration-status command, no `flask deploy --if-at-head`) still gets its
   dump before the migration.

Through 1-3 each host is under a steady load from the internet container
(outside.Load): 16 concurrent HTTPS clients of its /healthz, trusting only
Pebble's root, each request on a connection of its own (so nothing is ever
retried: a lost request is a failure), every answer logged with its time,
status and the release that answered (the JSON body of /healthz), in
.cache/logs/. For each host and each of the three playbooks: not one request
failed; the releases that answered are the expected ones (during a switch
both, and in order: only the old one before the live link moved, only the
new one once the old program stopped); requests were in flight within a
second of the switch and of each program stop, moments read from the host
(the live link's change time, supervisord's log); nginx was never reloaded
(systemd's journal), and the failed deploy left the link alone; the load was
still running when the
playbook ended; and the number of requests fits the clients' pace and the
time (never more than the pace allows, never less than half of it, never a
second without a request in flight).
"""

import datetime
import json
import os
import re
import time
from pathlib import Path

import pytest
import testinfra

import kit
import outside
from kit import APP, HOME

testinfra_hosts = [kit.first_web_host_name()]
# The load on each host: CLIENTS concurrent clients, each starting a request
# every PACE seconds (two hosts at once: 64 new HTTPS connections a second in
# all, continuous and concurrent, while the deploys keep the CPU they need).
CLIENTS = 16
PACE = 0.5
NEAR = 1.0  # "in flight within a second of" a moment
LOG_DIR = Path(os.environ.get("FLASKY_TEST_LOG_DIR", kit.ROOT / ".cache" / "logs"))
# Each playbook switches both hosts in one batch: each is a site of its own,
# and the failed-health deploy must reach both (with one host per batch the
# first failure ends the rollout).
ALL_AT_ONCE = ("-e", "deploy_serial=100%")
MARKER = "Deployed by the deploy-cycle test"
MIGRATION = kit.migration(
    "0003_cycle_note", "Deploy-cycle test: one nullable column (expand only).",
    "op.add_column('users', sa.Column('cycle_note', sa.String(length=64), nullable=True))",
    "op.drop_column('users', 'cycle_note')")


_playbook = kit.playbook


def _copy_app(dest, broken=False):
    kit.copy_app(dest, MIGRATION, "0003_cycle_note")
    index = dest / "flasky" / "templates" / "main" / "index.html"
    index.write_text(index.read_text().replace("</h1>", f"</h1>\n<p>{MARKER}</p>", 1))
    if broken:
        wsgi = dest / "wsgi.py"
        wsgi.write_text(wsgi.read_text() + "\nraise RuntimeError('broken on purpose by the deploy-cycle test')\n")
    return dest


class Site:
    def __init__(self, host):
        self.host = host
        self.name = host.ansible.get_variables()["inventory_hostname"]
        self.domain = host.ansible.get_variables()["app_domains"][0]

    def sudo(self, cmd):
        with self.host.sudo():
            return self.host.run(cmd)

    def current(self):
        return self.sudo(f"readlink {HOME}/current").stdout.strip().rsplit("/", 1)[-1]

    def previous(self):
        return self.sudo(f"readlink {HOME}/previous").stdout.strip().rsplit("/", 1)[-1]

    def color(self):
        return self.sudo(f"cat {HOME}/shared/active_color").stdout.strip()

    def status(self, color):
        return self.sudo(f"supervisorctl status {APP}-{color}").stdout

    def page(self, path="/"):
        res = self.host.run(f"curl -sk --max-time 10 -w '\\n%{{http_code}}' "
                            f"--resolve {self.domain}:443:127.0.0.1 https://{self.domain}{path}")
        body, _, code = res.stdout.rpartition("\n")
        return code, body

    def socket_health(self, color):
        out = self.sudo(f"curl -s --max-time 10 --unix-socket /run/{APP}/gunicorn-{color}.sock "
                        f"http://localhost/healthz").stdout
        return json.loads(out)

    def live_link(self):
        """The socket nginx connects to: the live link's target."""
        return self.sudo(f"readlink {HOME}/shared/live.sock").stdout.strip()

    def switch_time(self):
        """When the live link was last moved (its change time, to the nanosecond)."""
        return float(self.sudo(f"python3 -c 'import os; print(os.lstat(\"{HOME}/shared/live.sock\").st_ctime)'").stdout)

    def nginx_reloads(self, since, until):
        """When systemd reloaded nginx (its journal, to the microsecond)."""
        out = self.sudo(f"journalctl -u nginx.service --since @{int(since) - 1} -o short-unix -q --no-pager").stdout
        times = [float(line.split()[0]) for line in out.splitlines() if re.search(r"systemd\[1\]: Reloaded\b", line)]
        return [t for t in times if since <= t <= until]

    def program_events(self, since, until):
        """What supervisord saw its programs do (its log, to the millisecond):
        [(time, event, program)], event one of spawned, exited, stopping (SIGTERM
        sent), stopped, gave up."""
        offset = self.sudo("date +%z").stdout.strip()
        out = self.sudo("cat /var/log/supervisor/supervisord.log").stdout
        events = []
        for line in out.splitlines():
            found = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (?:(spawned|exited|stopped|gave up): "
                             r"'?([\w-]+)|waiting for ([\w-]+) to (stop))", line)
            if not found:
                continue
            stamp, event, program, waiting, stop = found.groups()
            moment = datetime.datetime.strptime(f"{stamp}000 {offset}", "%Y-%m-%d %H:%M:%S,%f %z").timestamp()
            if since <= moment <= until:
                events.append((moment, "stopping" if stop else event, waiting or program))
        return events


def _site(name):
    return Site(testinfra.get_host(f"ansible://{name}", ansible_inventory=kit.inventory()))


@pytest.fixture(scope="module")
def site(host):
    return Site(host)


def test_deploy_new_version_rollback_and_failed_health_under_load(site, tmp_path):
    sites = [_site(name) for name in sorted(site.host.ansible.get_variables()["groups"]["web"])]
    original = {s.name: (s.current(), s.color()) for s in sites}
    for name, (release, color) in original.items():
        assert release and color in ("blue", "green"), (name, release, color)
    v2, v3 = _copy_app(tmp_path / "v2"), _copy_app(tmp_path / "v3", broken=True)
    loads = {s.name: outside.Load(f"https://{s.domain}/healthz", clients=CLIENTS, pace=PACE, max_seconds=1800,
                                  new_connections=True) for s in sites}
    steps, new, switches = [], {}, {}
    try:
        # 1. A new version with a migration, under load.
        started = time.time()
        rc, out = _playbook("playbooks/deploy.yml", "web", *ALL_AT_ONCE, "-e", f"flasky_app_src_dir={v2}")
        steps.append(("deploy", started, time.time()))
        assert rc == 0, out[-4000:]
        for s in sites:
            switches.setdefault(s.name, {})["deploy"] = s.switch_time()
        for s in sites:
            old, old_color = original[s.name]
            new[s.name] = s.current()
            assert new[s.name] != old, "a changed source must make a new release"
            assert s.previous() == old
            assert s.color() != old_color
            assert " RUNNING " in s.status(s.color())
            assert " RUNNING " not in s.status(old_color)
            health = s.socket_health(s.color())
            assert health["at_head"] and health["migration"] == "0003_cycle_note" and health["release"] == new[s.name]
            code, body = s.page()
            assert code == "200" and MARKER in body
            dumps = s.sudo("ls /var/backups/postgresql/flasky/").stdout
            assert re.search(r"pre-migrate-0002_user_profile-to-0003_cycle_note", dumps), dumps

        # 2. Rollback to the original release; the schema stays at 0003.
        started = time.time()
        rc, out = _playbook("playbooks/rollback.yml", "web", *ALL_AT_ONCE)
        steps.append(("rollback", started, time.time()))
        assert rc == 0, out[-4000:]
        for s in sites:
            switches[s.name]["rollback"] = s.switch_time()
        for s in sites:
            assert s.current() == original[s.name][0] and s.previous() == new[s.name]
            code, body = s.page()
            assert code == "200" and MARKER not in body
            health = s.socket_health(s.color())
            assert health["release"] == original[s.name][0] and health["database"] is True
            assert health["migration"] == "0003_cycle_note", "a rollback must not downgrade the schema"

        # 3. A broken version: health check fails, the old release keeps serving.
        live = {s.name: s.color() for s in sites}
        started = time.time()
        rc, out = _playbook("playbooks/deploy.yml", "web", *ALL_AT_ONCE, "-e", f"flasky_app_src_dir={v3}")
        steps.append(("failed deploy", started, time.time()))
        assert rc != 0, "a deploy whose release is unhealthy must fail"
        assert out.count("did not become healthy") >= len(sites) and "keeps serving" in out, out[-4000:]
        for s in sites:
            live_color = live[s.name]
            idle = "green" if live_color == "blue" else "blue"
            assert f"/var/log/{APP}/{idle}-error.log" in out
            assert s.current() == original[s.name][0] and s.color() == live_color
            assert " RUNNING " in s.status(live_color)
            assert " RUNNING " not in s.status(idle)
            code, body = s.page()
            assert code == "200" and MARKER not in body
            assert s.live_link() == f"/run/{APP}/gunicorn-{live_color}.sock"
            assert s.switch_time() == switches[s.name]["rollback"], "the live link moved in a failed deploy"
    finally:
        results = {name: load.stop() for name, load in loads.items()}
        for name, result in results.items():
            _log_requests(name, dict(result, steps=steps))
        # 4. Back to the original state: schema at the original head, original release live.
        rc, out = _restore(sites)
    assert rc == 0, out[-4000:]
    for s in sites:
        assert s.current() == original[s.name][0]
        assert s.socket_health(s.color())["at_head"] is True
    changed = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", out, re.M)}
    assert changed == {s.name: 0 for s in sites}, \
        "a deploy of the unchanged original must change nothing:\n" + out[-3000:]

    # The load, host by host, playbook by playbook.
    for s in sites:
        old, new_release = original[s.name][0], new[s.name]
        _assert_load(s, results[s.name], steps, {
            "deploy": (old, new_release), "rollback": (new_release, old), "failed deploy": (old, None)},
            switches[s.name])


def _log_requests(name, result):
    """Every request of a load, one line each: start (UTC), seconds, status, release, client."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / f"deploy-cycle-load-{name}.json").write_text(json.dumps(result))
    with (LOG_DIR / f"deploy-cycle-load-{name}.log").open("w") as log:
        log.write(f"# {outside.summary(result)}\n")
        for label, started, ended in result["steps"]:
            log.write(f"# {label}: {started:.3f} .. {ended:.3f}\n")
        for start, end, status, release, _host, client, _retried in result["records"]:
            stamp = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).isoformat(timespec="milliseconds")
            log.write(f"{stamp} {end - start:.3f} {status} {release or '-'} client={client}\n")


def _in_flight(records, moment):
    """Requests in flight at some time within NEAR seconds of `moment`."""
    return [r for r in records if r[0] <= moment + NEAR and r[1] >= moment - NEAR]


def _assert_load(site, result, steps, expected, switches):
    """What the load on one host proves: see the module's docstring."""
    records = result["records"]
    where = f"{site.name}: {outside.summary(result)}"
    assert result["failed"] == 0 and result["retries"] == 0, where
    assert all(r[2] == 200 for r in records), where
    # The count fits the pace and the time: no client ever starts more often
    # than its pace allows; together they reach at least half the nominal rate.
    duration = result["ended"] - result["started"]
    per_client = [sum(1 for r in records if r[5] == c) for c in range(CLIENTS)]
    assert max(per_client) <= duration / PACE + 1, f"{where}; per client {per_client} in {duration:.0f} s"
    outside.assert_steady(result, steps[0][1], steps[-1][2], min_rate=CLIENTS / PACE / 2)
    for label, started, ended in steps:
        old, new = expected[label]
        during = [r for r in records if started <= r[0] <= ended]
        assert any(r[0] > ended for r in records), f"{site.name}: the load had stopped when the {label} ended"
        # A switch moves the live link: nginx is never reloaded (its reload would
        # close idle kept-alive client connections).
        reloads = site.nginx_reloads(started, ended)
        assert reloads == [], f"{site.name}: nginx reloaded during the {label}: {reloads}"
        events = site.program_events(started, ended)
        seen = {r[3] for r in during}
        if new is None:  # the failed deploy: nginx untouched, only the old release answers
            assert seen == {old}, f"{site.name}: releases that answered during the {label}: {seen}"
            # The broken program starts, fails and is stopped; the live one is never touched.
            broken = {program for _, _, program in events}
            assert len(broken) == 1, f"{site.name}: programs supervisord acted on during the {label}: {events}"
            ends = [e for e in events if e[1] in ("stopped", "gave up")]
            # A stop that reaches the program while supervisord waits to retry
            # it (BACKOFF, after an exit) leaves no line in its log: then the
            # last line is the exit, and the program's state says it stopped.
            state = site.sudo(f"supervisorctl status {next(iter(broken), '-')}").stdout
            assert [e[1] for e in events][0] == "spawned" and (
                len(ends) == 1 or (not ends and events[-1][1] == "exited" and re.search(r"\sSTOPPED\s", state))), \
                f"{site.name}: the broken program was not started and stopped once ({label}): {events}, now: {state}"
            moments = [moment for moment, *_ in events]
        else:
            assert seen == {old, new}, f"{site.name}: releases that answered during the {label}: {seen}"
            switch = switches[label]
            assert started <= switch <= ended, f"{site.name}: the live link moved at {switch}, not in the {label}"
            stopping = [e for e in events if e[1] == "stopping"]
            stopped = [e for e in events if e[1] == "stopped"]
            # (supervisord logs "waiting for ... to stop" every 2 s until it is gone, if it is not at once)
            assert len(stopped) == 1 and {e[2] for e in stopping} <= {stopped[0][2]}, \
                f"{site.name}: not one program stop during the {label}: {events}"
            stop = stopped[0][0]
            stop_begins = stopping[0][0] if stopping else stop
            assert switch < stop_begins, f"{site.name}: the old program stopped before nginx switched ({label})"
            before = {r[3] for r in records if started <= r[0] and r[1] < switch}
            after = {r[3] for r in records if stop < r[0] <= ended}
            assert before == {old}, f"{site.name}: before the switch ({label}) {before} answered"
            assert after == {new}, f"{site.name}: after the old program stopped ({label}) {after} answered"
            moments = [switch, stop_begins, stop]
        for moment in moments:
            near = _in_flight(records, moment)
            assert len(near) >= CLIENTS and min(r[0] for r in near) <= moment <= max(r[1] for r in near), \
                f"{site.name}: only {len(near)} requests in flight within {NEAR} s of {moment:.3f} ({label})"


def _restore(sites):
    """Downgrade each schema with the release that knows the test migration, deploy the original."""
    for site in sites:
        built = site.sudo(f"ls {HOME}/releases").stdout.split()
        for rel in built:
            if site.sudo(f"test -e {HOME}/releases/{rel}/migrations/versions/0003_cycle_note.py").rc == 0:
                site.sudo(f"cd {HOME}/releases/{rel} && sudo -u {APP} venv/bin/flask db downgrade 0002_user_profile")
                break
    return _playbook("playbooks/deploy.yml", ",".join(site.name for site in sites))


def _dumps(site):
    return set(site.sudo("ls /var/backups/postgresql/flasky/").stdout.split())


def test_any_flask_migrate_app_gets_its_dump_before_a_migration(site, tmp_path):
    """An app deployed with inventory variables only, without the bundled app's
    `flask migration-status` (flasky_app_migration_status_command: "") nor
    `flask deploy --if-at-head` (flasky_app_deploy_if_at_head_option: ""): Flask-Migrate's
    own `flask db current` and `flask db heads` show the pending migration, and the
    database is dumped before it runs."""
    original = site.current()
    before = _dumps(site)
    try:
        rc, out = _playbook("playbooks/deploy.yml", site.name, "-e", f"flasky_app_src_dir={_copy_app(tmp_path / 'v2')}",
                            "-e", "flasky_app_migration_status_command=''", "-e", "flasky_app_deploy_if_at_head_option=''")
        assert rc == 0, out[-4000:]
        assert site.socket_health(site.color())["migration"] == "0003_cycle_note"
        new = sorted(_dumps(site) - before)
        assert any("pre-migrate-0002_user_profile-to-0003_cycle_note" in d for d in new), \
            f"no dump before the migration; new files: {new}\n{out[-3000:]}"
    finally:
        rc, out = _restore([site])
    assert rc == 0, out[-4000:]
    assert site.current() == original
