"""No secret in clear, anywhere it could leak.

Found by this test once: the deploy passed the app's environment to
`become_user` tasks, and sudo logged it with the command line.

The scenario converges at -v (molecule.yml), so task arguments and results
are printed unless a task hides them with no_log. Neither that output nor
any log file or the journal on the hosts may contain a vault value.
"""

import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
VAULT = ROOT / "inventories" / "local" / "group_vars" / "local" / "vault.yml"
VAULT_PASS = ROOT / "inventories" / "local" / "vault-pass.test-only.sh"
LOGS = Path(os.environ.get("FLASKY_TEST_LOG_DIR", ROOT / ".cache" / "logs"))


def _secrets():
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-vault"), "view",
                          "--vault-id", f"local@{VAULT_PASS}", str(VAULT)],
                         capture_output=True, text=True, check=True).stdout
    values = [str(v) for v in yaml.safe_load(out).values()]
    assert values and all(len(v) >= 16 for v in values)
    return values


def test_the_converge_output_at_verbose_shows_no_secret():
    logs = [LOGS / "molecule-default-converge.log", LOGS / "molecule-default-idempotence.log"]
    missing = [str(p) for p in logs if not p.exists()]
    assert not missing, f"run the scenario through scripts/run-tests.sh (no logs: {missing})"
    text = "".join(p.read_text(errors="replace") for p in logs)
    assert "TASK [" in text and "as config file" in text  # the real run, at -v
    for secret in _secrets():
        assert secret not in text, "a vault value appears in the Ansible output"


def test_no_log_file_or_journal_on_the_host_holds_a_secret(host):
    # The secrets go in on stdin of a docker exec: on a command line they
    # would land in the very logs searched here (sudo logs its commands).
    name = host.ansible.get_variables()["inventory_hostname"]
    patterns = "\n".join(_secrets()) + "\n"
    for what, cmd in [("a file under /var/log", "grep -rlF -f /dev/stdin /var/log"),
                      ("the journal", "journalctl --no-pager -q | grep -F -f /dev/stdin | cut -c1-160")]:
        res = subprocess.run(["docker", "exec", "-i", name, "sh", "-c", cmd], input=patterns,
                             capture_output=True, text=True, timeout=120)
        assert res.stdout.strip() == "", f"a vault value is in {what}: {res.stdout[:2000]}"
