"""Rolling deploys across the web hosts, under a steady outside load of 16
concurrent clients through the balancer (every answer counted):

1. a new version with a migration: built everywhere, the database dumped and
   migrated once, the hosts switched one at a time - both releases answer
   during the rollout, not one request fails;
2. a version that cannot start on the last web host: the rollout stops
   there, the host already switched keeps the new release, the failing one
   keeps its old one, the site never fails a request; rollback.yml then
   brings every web host back to one release;
3. cleanup: the schema back at the original head, the original release live.
"""

import re
import time

import kit
from conftest import (Load, assert_steady, group, healthz, host, live_release, playbook,
                      releases_seen, summary)

testinfra_hosts = [group("web")[0]]
MIGRATION = kit.migration(
    "0003_cluster_note", "Cluster test: one nullable column (expand only).",
    "op.add_column('users', sa.Column('cluster_note', sa.String(length=64), nullable=True))",
    "op.drop_column('users', 'cluster_note')")


def new_version(dest, marker, broken_on=None):
    kit.copy_app(dest, MIGRATION, "0003_cluster_note")
    index = dest / "flasky" / "templates" / "main" / "index.html"
    index.write_text(index.read_text().replace("</h1>", f"</h1>\n<p>{marker}</p>", 1))
    if broken_on:
        wsgi = dest / "wsgi.py"
        wsgi.write_text(wsgi.read_text() + "\nimport socket\n"
                        f"if socket.gethostname() == {broken_on!r}:\n"
                        "    raise RuntimeError('broken on this host by the cluster test')\n")
    return dest


def dumps():
    db = host(group("database")[0])
    with db.sudo():
        return set(db.check_output("ls /var/backups/postgresql/flasky/").split())


def releases():
    return {name: live_release(name) for name in group("web")}


def deploy_under_load(*extra, book="playbooks/deploy.yml"):
    with Load() as load:
        started = time.time()
        rc, out = playbook(book, *extra)
        ended = time.time()
        time.sleep(2)
    return rc, out, load.result, started, ended


def restore(original):
    """Schema back to the original head (with a release that knows the test
    migration), then the original app deployed again."""
    web = host(group("web")[0])
    with web.sudo():
        for rel in web.check_output(f"ls {kit.HOME}/releases").split():
            if web.run(f"test -e {kit.HOME}/releases/{rel}/migrations/versions/0003_cluster_note.py").rc == 0:
                web.run(f"cd {kit.HOME}/releases/{rel} && sudo -u flasky venv/bin/flask db downgrade 0002_user_profile")
                break
    rc, out = playbook("playbooks/deploy.yml")
    assert rc == 0, out[-4000:]
    assert set(releases().values()) == {original}


def test_rolling_deploys_drop_nothing_and_a_failing_host_stops_the_rollout(tmp_path):
    before = releases()
    assert len(set(before.values())) == 1, before
    original = next(iter(before.values()))
    dumps_before = dumps()
    try:
        # 1. A new version with a migration, rolled out under load.
        rc, out, load, started, ended = deploy_under_load(
            "-e", f"flasky_app_src_dir={new_version(tmp_path / 'v2', 'cluster v2')}")
        assert rc == 0, out[-4000:]
        after = releases()
        new = after[group("web")[0]]
        assert new != original and set(after.values()) == {new}, after
        assert load["failed"] == 0, summary(load)
        assert_steady(load, started, ended)
        assert releases_seen(load, started, ended) == {original, new}, summary(load)
        # Host by host: the old release still answered after the new one first did.
        answers = [(r[0], r[3]) for r in load["records"] if r[2] == 200]
        first_new = min(t for t, rel in answers if rel == new)
        last_old = max(t for t, rel in answers if rel == original)
        assert last_old > first_new, "the hosts switched at once, not one at a time"
        # Migrated once, dumped once, on the database host.
        assert healthz()["migration"] == "0003_cluster_note"
        new_dumps = [d for d in dumps() - dumps_before if "pre-migrate-0002_user_profile-to-0003_cluster_note" in d]
        assert len(new_dumps) == 1, new_dumps

        # 2. A version that cannot start on the last web host.
        last = group("web")[-1]
        rc, out, load, started, ended = deploy_under_load(
            "-e", f"flasky_app_src_dir={new_version(tmp_path / 'v3', 'cluster v3', broken_on=last)}")
        assert rc != 0, "a rollout with an unhealthy host must fail"
        assert "keeps serving" in out and last in out, out[-4000:]
        mixed = releases()
        assert mixed[last] == new, "the failing host must keep its old release"
        v3 = mixed[group("web")[0]]
        assert v3 not in (new, original), "the first host switched before the failure"
        assert load["failed"] == 0, summary(load)
        assert_steady(load, started, ended)
        # The play stopped at the failing host: no host after it was touched.
        assert re.search(rf"{re.escape(last)}\s*:.*failed=1", out), out[-2000:]

        # Rollback: every web host on the release before the newest live one.
        rc, out, load, started, ended = deploy_under_load(book="playbooks/rollback.yml")
        assert rc == 0, out[-4000:]
        assert set(releases().values()) == {new}, releases()
        assert load["failed"] == 0, summary(load)
        assert releases_seen(load, since=ended) == {new}, "after the rollback only one release answers"
    finally:
        restore(original)
