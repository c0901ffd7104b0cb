"""No secret in clear, anywhere it could leak.

Found by this test once: the deploy passed the app's environment to
`become_user` tasks, and sudo logged it with the command line.

Every value of the test vault is searched for, as written and in the forms a
leak often takes: URL-encoded (a database URL), base64 (an HTTP Basic header,
a MIME body) and JSON-escaped (a logged structure). The scenario converges at
-v (molecule.yml), so task arguments and results are printed unless a task
hides them with no_log; that output, the output of the playbooks the other
tests run (kit.playbook writes it next to the converge log), and on the hosts
the logs, the journal, the mail spools, the Postfix queue, /tmp, /root and the
app user's home may hold none of them. Each host search also looks for a
planted canary: a search that did not run, or did not look where it says,
finds no canary and fails, and so does one that reports an error.
"""

import base64
import json
import os
import re
import subprocess
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
VAULT = ROOT / "inventories" / "local" / "group_vars" / "local" / "vault.yml"
VAULT_PASS = ROOT / "inventories" / "local" / "vault-pass.test-only.sh"
LOGS = Path(os.environ.get("FLASKY_TEST_LOG_DIR", ROOT / ".cache" / "logs"))
APP = "flasky"
# The one file meant to hold the secrets in clear: the .env of each release
# (mode 0600, the app user's, test_app.py checks it), which the app reads
# at start. It is left out of the search of the app's home, and only it.
LEGITIMATE = re.compile(rf"^/srv/{APP}/releases/[0-9a-f]{{12}}/\.env$")


def _values():
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-vault"), "view",
                          "--vault-id", f"local@{VAULT_PASS}", str(VAULT)],
                         capture_output=True, text=True, check=True).stdout
    data = yaml.safe_load(out)
    assert isinstance(data, dict) and data, "the vault holds no value"
    values = [str(v) for v in data.values()]
    assert all(len(v) >= 16 for v in values), "a vault value is too short to search for safely"
    return values


def _forms(value):
    """The value and the encodings it is most often leaked in."""
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
             base64.b64encode(value.encode()).decode(), json.dumps(value)[1:-1]}
    # base64 of a value inside a longer text (a MIME body, a Basic header)
    # starts at one of three offsets: the middle of each shifted encoding is
    # the same whatever comes before and after it.
    for shift in (0, 1, 2):
        shifted = base64.b64encode(b"\0" * shift + value.encode()).decode()
        forms.add(shifted[4 if shift else 0:-4])
    return sorted(forms)


@pytest.fixture(scope="module")
def patterns():
    return [form for value in _values() for form in _forms(value)]


def _docker_exec(name, script, stdin):
    # The patterns go in on stdin: on a command line they would land in the
    # very logs searched here (sudo logs its commands).
    return subprocess.run(["docker", "exec", "-i", name, "bash", "-c", script], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_the_ansible_output_shows_no_secret(patterns):
    logs = [LOGS / "molecule-default-converge.log", LOGS / "molecule-default-idempotence.log"]
    missing = [str(p) for p in logs if not p.exists()]
    assert not missing, f"run the scenario through scripts/run-tests.sh (no logs: {missing})"
    # The playbooks the tests before this one ran (deploys, rollbacks, status, the
    # check-mode runs with --diff), and the check mode on the fresh hosts.
    logs += sorted(LOGS.glob("molecule-default-verify-playbooks*.log"))
    logs += [p for p in [LOGS / "molecule-default-check.log"] if p.exists()]
    for log in logs:
        text = log.read_text(errors="replace")
        assert "TASK [" in text, f"{log} holds no playbook output"
        found = [p for p in patterns if p in text]
        assert not found, f"a vault value (or an encoding of one) appears in {log}"
    assert "as config file" in logs[0].read_text(errors="replace")  # the real converge, at -v


def test_no_file_journal_mail_or_queue_on_the_host_holds_a_secret(host, patterns):
    name = host.ansible.get_variables()["inventory_hostname"]
    home = host.user(APP).home
    assert home == f"/srv/{APP}", home
    places = ["/var/log", "/var/mail", "/var/spool/postfix", "/tmp", "/root", home]
    canary = f"canary-{uuid.uuid4().hex}"
    planted = [f"{place}/.secrets-test-{canary}" for place in places]
    # Plant the canary in each place, search every place (grep exit 2: an
    # error, the test fails); then the same for the journal; remove the canaries.
    script = "\n".join([
        "set -u",
        "pats=$(cat)",
        *[f"printf '%s\\n' {canary} > {p}" for p in planted],
        f"printf '%s\\n' \"$pats\" | grep -rlF -D skip -f /dev/stdin {' '.join(places)}; echo \"grep=$?\"",
        # Only now into the journal (and so into /var/log/syslog): the files are searched.
        f"logger -t secrets-test {canary}",
        "sleep 1",
        "journalctl --no-pager -q -o cat > /root/.journal-$$ || echo journalctl-failed",
        "printf '%s\\n' \"$pats\" | grep -F -f /dev/stdin /root/.journal-$$ | cut -c1-160; echo \"journal=${PIPESTATUS[1]}\"",
        "rm -f /root/.journal-$$ " + " ".join(planted),
    ])
    res = _docker_exec(name, script, "\n".join(patterns + [canary]) + "\n")
    assert res.returncode == 0, f"the search failed: {res.stderr[-2000:]}"
    lines = res.stdout.splitlines()
    assert "grep=0" in lines and "journal=0" in lines, f"a search failed: {res.stdout[-2000:]} {res.stderr[-2000:]}"
    assert "journalctl-failed" not in lines
    files = lines[:lines.index("grep=0")]
    journal = lines[lines.index("grep=0") + 1:lines.index("journal=0")]
    assert sorted(f for f in files if canary in f) == sorted(planted), \
        f"the search did not look in every place: {files}"
    # The real secrets are found where they belong: the search sees them.
    assert [f for f in files if LEGITIMATE.match(f)], f"the live release's .env was not matched: {files}"
    leaks = [f for f in files if canary not in f and not LEGITIMATE.match(f)]
    assert not leaks, f"a vault value (or an encoding of one) is in {leaks}"
    assert [j for j in journal if canary in j], "the journal search did not see the planted line"
    leaks = [j for j in journal if canary not in j]
    assert not leaks, f"a vault value is in the journal: {leaks}"
