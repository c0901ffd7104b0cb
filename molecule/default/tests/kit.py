"""Shared tools of the tests that run the operator's playbooks against the
scenario's hosts (through molecule's inventory), with modified copies of
the bundled app."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VAULT_PASS = ROOT / "inventories" / "local" / "vault-pass.test-only.sh"
ANSIBLE = ROOT / ".venv" / "bin"
APP = "flasky"
HOME = f"/srv/{APP}"


def inventory():
    inv = os.environ.get("MOLECULE_INVENTORY_FILE") or os.environ.get("FLASKY_TEST_INVENTORY")
    assert inv, "needs MOLECULE_INVENTORY_FILE (molecule verify) or FLASKY_TEST_INVENTORY"
    return inv


def ansible_env():
    """The environment of an operator's run: the project's ansible.cfg, no molecule settings."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_CACHE_PLUGIN="memory", PATH=f"{ANSIBLE}:{os.environ['PATH']}")
    for name in ("ANSIBLE_CONFIG", "PYTHONDONTWRITEBYTECODE", "ANSIBLE_VAULT_IDENTITY_LIST"):
        env.pop(name, None)
    return env


# Every playbook a test runs appends its output here, for test_secrets.py
# (emptied by the first run of each test session).
PLAYBOOK_LOG = Path(os.environ.get("FLASKY_TEST_LOG_DIR", ROOT / ".cache" / "logs")) / \
    f"molecule-{os.environ.get('MOLECULE_SCENARIO_NAME', 'default')}-verify-playbooks.log"
_playbook_log_started = False


def playbook(name, limit, *extra, timeout=1200, inv=None):
    """Run a playbook as an operator would; returns (rc, output)."""
    global _playbook_log_started
    cmd = ["ansible-playbook", name, "-i", inv or inventory(), "--limit", limit,
           "--vault-id", f"local@{VAULT_PASS}", *extra]
    res = subprocess.run(cmd, cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=timeout)
    PLAYBOOK_LOG.parent.mkdir(parents=True, exist_ok=True)
    with PLAYBOOK_LOG.open("a" if _playbook_log_started else "w") as log:
        log.write(f"### {' '.join(cmd)} (rc {res.returncode})\n{res.stdout}{res.stderr}\n")
    _playbook_log_started = True
    return res.returncode, res.stdout + res.stderr


def copy_app(dest, migration=None, name=None):
    """A copy of app/ as a deploy would take it, optionally with one more migration."""
    shutil.copytree(ROOT / "app", dest, ignore=shutil.ignore_patterns(
        ".venv", "__pycache__", "*.pyc", "*.db", "*.sqlite", ".env", ".pytest_cache", "instance"))
    if migration:
        (dest / "migrations" / "versions" / f"{name}.py").write_text(migration)
    return dest


def first_web_host(host):
    return sorted(host.ansible.get_variables()["groups"]["web"])[0]


def sudo(host, cmd):
    with host.sudo():
        return host.run(cmd)


def live_release(host):
    return sudo(host, f"readlink {HOME}/current").stdout.strip().rsplit("/", 1)[-1]


def live_color(host):
    return sudo(host, f"cat {HOME}/shared/active_color").stdout.strip()


def migration_status(host):
    res = sudo(host, f"/usr/local/bin/{APP}-manage migration-status")
    assert res.rc == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def psql(host, sql):
    res = sudo(host, f"runuser -u postgres -- psql -d {APP} -tAc \"{sql}\"")
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def first_web_host_name():
    """The first web host of the scenario, for tests that run on one host only
    (module-level `testinfra_hosts = [kit.first_web_host_name()]`)."""
    res = subprocess.run(["ansible-inventory", "-i", inventory(), "--list",
                          "--vault-id", f"local@{VAULT_PASS}"],
                         cwd=ROOT, env=ansible_env(), capture_output=True, text=True, check=True)
    return sorted(json.loads(res.stdout)["web"]["hosts"])[0]


def migration(revision, doc, upgrade, downgrade, down_revision="0002_user_profile"):
    """The text of an Alembic revision following the bundled app's chain."""
    return (f'"""{doc}\n\nRevision ID: {revision}\nRevises: {down_revision}\n"""\n'
            "from alembic import op\nimport sqlalchemy as sa\n\n"
            f"revision = '{revision}'\ndown_revision = '{down_revision}'\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    {downgrade}\n")


def recap_changed(out, name):
    """The changed= count of a run's recap line for host `name` (the run must have failed nothing)."""
    m = re.search(rf"^{re.escape(name)}\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", out, re.M)
    assert m, out[-3000:]
    return int(m.group(1))
