"""Check mode: a dry run an operator can trust on the converged hosts.

`site.yml --check --diff` and `playbooks/deploy.yml --check --diff` must
succeed and report changed=0 on every host (the hosts are what the converge
and the idempotence run left: nothing is due). Runs first in the verify, so
no other test has changed the hosts yet. (A fresh host in check mode is the
run-tests.sh stage molecule-default-check, right after create.)
"""

import json
import re
import subprocess

import pytest

import kit

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def hosts():
    res = subprocess.run(["ansible-inventory", "-i", kit.inventory(), "--list",
                          "--vault-id", f"local@{kit.VAULT_PASS}"],
                         cwd=kit.ROOT, env=kit.ansible_env(), capture_output=True, text=True, check=True)
    return sorted(json.loads(res.stdout)["_meta"]["hostvars"])


def changed_tasks(output):
    """The tasks that reported a change, with their hosts (for the failure message)."""
    found, task = [], None
    for line in output.splitlines():
        m = re.match(r"^TASK \[(.*?)\]", line)
        if m:
            task = m.group(1)
        m = re.match(r"^changed: \[([^\]]+)\]", line)
        if m:
            found.append(f"{m.group(1)}: {task}")
    return found


@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/deploy.yml"])
def test_check_mode_succeeds_and_changes_nothing(playbook):
    expected = hosts()
    rc, out = kit.playbook(playbook, "all", "--check", "--diff")
    assert rc == 0, f"{playbook} --check failed (rc {rc}):\n{out[-4000:]}"
    recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
             for m in RECAP.findall(out)}
    assert sorted(recap) == expected, f"the recap lists {sorted(recap)}, not every host {expected}"
    for name, counts in recap.items():
        assert counts["ok"] > 0, f"{name}: nothing ran"
        assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{name}: {counts}"
    changed = {name: counts["changed"] for name, counts in recap.items() if counts["changed"]}
    assert not changed, f"{playbook} --check reports changes on converged hosts {changed}: {changed_tasks(out)}"
