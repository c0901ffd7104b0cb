"""Bad inputs: every invalid inventory is refused before anything changes.

Each case builds a small inventory for one converged test host (the local
environment's valid settings, then one thing broken), runs site.yml, and
checks that the run fails, that the message names the problem (and the fix),
and that no task reported a change.

The table in docs/bad-inputs.md is generated from these cases and the
messages the runs really printed; this test fails when the two disagree
(regenerate with UPDATE_DOCS=1).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "bad-inputs.md"
VAULT_PASS = ROOT / "inventories" / "local" / "vault-pass.test-only.sh"
LOCAL_VARS = ROOT / "inventories" / "local" / "group_vars" / "local" / "main.yml"
ANSIBLE = ROOT / ".venv" / "bin"

GOOD_SECRETS = {
    "vault_app_secret_key": "k" * 8 + "-a-long-test-only-secret-key-value-123",
    "vault_app_db_password": "test-only-db-password-123456",
    "vault_pgbackrest_cipher_pass": "test-only-backup-repository-passphrase",
}


def case(cid, what, vars_=None, secrets=None, drop=(), expect="", fix="", vault_password=None, encrypt=True):
    """One bad inventory: `expect` is the start of the problem's message,
    `fix` a regular expression for the part that tells the operator what to do."""
    return pytest.param(
        dict(what=what, vars=vars_ or {}, secrets=secrets or {}, drop=drop,
             expect=expect, fix=fix, vault_password=vault_password, encrypt=encrypt),
        id=cid,
    )


CASES = [
    case("missing-vault-variable", "the vault lacks vault_app_secret_key",
         drop=["vault_app_secret_key"], expect="vault_app_secret_key is not set",
         fix=r"make vault ENV=<env>\) or add it: ansible-vault edit"),
    case("placeholder-secret", "the example vault was encrypted unedited",
         secrets={"vault_app_secret_key": "CHANGE_ME: openssl rand -base64 48"},
         expect="vault_app_secret_key looks like a placeholder", fix=r"Generate one .*ansible-vault edit"),
    case("short-secret", "the database password is too short",
         secrets={"vault_app_db_password": "hunter2"},
         expect="vault_app_db_password looks like a placeholder or is shorter than 16", fix=r"Generate one"),
    # Ansible's own message, before any task runs: the project cannot add the
    # fix to it (the README's vault section says which password file to use).
    case("wrong-vault-password", "the vault was encrypted with another password",
         vault_password="not-the-environment-password", expect="Decryption failed", fix=None),
    case("unencrypted-vault", "vault.yml was written in clear text (never encrypted)",
         encrypt=False, expect="is not encrypted", fix=r"Encrypt it: ansible-vault encrypt \S*vault\.yml"),
    case("malformed-domain", "a domain name with a space and a double dot",
         vars_={"app_domains": ["exa mple..com"]}, expect="app_domains must be a list of DNS names",
         fix=r"like \[example\.com"),
    case("domain-not-a-list", "app_domains given as a string instead of a list",
         vars_={"app_domains": "example.com"}, expect="app_domains must be a list of DNS names",
         fix=r"like \[example\.com"),
    case("no-domain", "app_domains left empty",
         vars_={"app_domains": []}, expect="app_domains is not set", fix=r"set app_domains .* group_vars"),
    case("malformed-email", "the administrator's address has no @",
         vars_={"app_admin_email": "admin.example.com"}, expect="is not an e-mail address",
         fix=r"like admin@example\.com"),
    case("unsupported-os", "the host's OS release is not a supported one",
         vars_={"preflight_supported_os": {"Debian": ["11"]}}, expect="supported: Debian 11",
         fix=r"Use a supported image"),
    case("unknown-time-zone", "a time zone the host does not know",
         vars_={"base_timezone": "Mars/Olympus_Mons"}, expect="is not a time zone known to",
         fix=r"Use an IANA name .* timedatectl list-timezones"),
    case("wrong-type", "a number given as a word",
         vars_={"base_apt_cache_valid_time": "an hour"}, expect="base_apt_cache_valid_time",
         fix=r"unable to convert to int"),
    case("app-bad-choice", "the app's database TLS mode is not one PostgreSQL knows",
         vars_={"flasky_app_db_sslmode": "sometimes"}, expect="flasky_app_db_sslmode",
         fix=r"must be one of: .*verify-full"),
    case("certbot-bad-choice", "a certificate key type certbot does not offer",
         vars_={"certbot_key_type": "dsa"}, expect="certbot_key_type", fix=r"must be one of: ecdsa, rsa"),
    case("relay-login-without-password", "a smarthost login without its password in the vault",
         vars_={"postfix_relayhost": "[smtp.example.com]:587", "postfix_relay_user": "mailer"},
         expect="postfix_relay_user is set (mailer) but the smarthost password is missing",
         fix=r"add vault_postfix_relay_password to the environment's vault"),
    case("relay-login-without-relayhost", "a smarthost login but no smarthost",
         vars_={"postfix_relay_user": "mailer"}, secrets={"vault_postfix_relay_password": "test-only-relay-pw-123"},
         expect="postfix_relay_user is set (mailer) but postfix_relayhost is empty",
         fix=r"set postfix_relayhost to the smarthost"),
]


def _run(cmd, **kw):
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PATH=f"{ANSIBLE}:{os.environ['PATH']}")
    env.pop("ANSIBLE_CONFIG", None)  # the project's ansible.cfg, as an operator runs it
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("ANSIBLE_VAULT_IDENTITY_LIST", None)  # each call names its vault id
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def target():
    """Connection settings of the first molecule host, from molecule's inventory."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    out = _run(["ansible-inventory", "-i", inventory, "--list",
                "--vault-id", f"local@{VAULT_PASS}"], check=True).stdout
    data = json.loads(out)
    name = sorted(data["web"]["hosts"])[0]
    hostvars = data["_meta"]["hostvars"][name]
    keep = {k: v for k, v in hostvars.items()
            if k.startswith("ansible_") and k != "ansible_group_priority"}
    return name, keep


def _encrypt(path, content, password):
    secret = path.parent / ".pw"
    secret.write_text(password + "\n")
    path.write_text(yaml.safe_dump(content))
    _run(["ansible-vault", "encrypt", "--vault-id", f"bad@{secret}", str(path)], check=True)
    secret.unlink()


def _inventory(tmp_path, target, params):
    name, conn = target
    inv = tmp_path / "inv"
    gv = inv / "group_vars" / "badenv"
    gv.mkdir(parents=True)
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"badenv": {"children": {
        "web": {"hosts": {name: conn}},
        "database": {"hosts": {name: None}},
        "mail": {"hosts": {name: None}},
    }}}}}))
    main = yaml.safe_load(LOCAL_VARS.read_text())
    main.update(params["vars"])
    (gv / "main.yml").write_text(yaml.safe_dump(main))
    secrets = {**GOOD_SECRETS, **params["secrets"]}
    for key in params["drop"]:
        secrets.pop(key)
    if params["encrypt"]:
        password = params["vault_password"] or _run([str(VAULT_PASS)]).stdout.strip()
        _encrypt(gv / "vault.yml", secrets, password)
    else:
        (gv / "vault.yml").write_text(yaml.safe_dump(secrets))
    return inv, name


# What a run could change on the host: files under /etc and the app's home
# (path, size, mtime, mode, owners), the firewall, the programs, the packages.
FINGERPRINT = r"""
find /etc /srv -xdev -printf '%p %s %T@ %m %u %g\n' | sort
echo '== ufw'; ufw status verbose
echo '== supervisor'; { supervisorctl status || true; } | awk '{print $1, $2}'
echo '== packages'; dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n'
"""


def fingerprint(name):
    res = subprocess.run(["docker", "exec", "-i", name, "bash", "-euo", "pipefail", "-s"], input=FINGERPRINT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "== packages" in res.stdout, f"fingerprint of {name} failed: {res.stderr}"
    return res.stdout.splitlines()


def failing_task(output):
    """The header of the task that failed ("" when the run stopped before any task)."""
    task = ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif re.match(r"^(fatal|failed): \[", line):
            return task
    return ""


def _message(output, expect, name, inv):
    """The line of the run's output that carries the expected message (the host's
    name as <host>, the case's inventory directory as <inventory>)."""
    for line in output.splitlines():
        if expect.lower() in line.lower():
            line = re.sub(r"^\[ERROR\]: (Task failed: )?(Action failed: )?", "", line.strip())
            line = line.replace(name, "<host>").replace(str(inv), "<inventory>")
            line = re.sub(r"(Debian \d+)\.\d+", r"\1.x", line)  # point releases move on
            return line.strip().strip('"')
    return None


RESULTS = {}


@pytest.mark.parametrize("params", CASES)
def test_bad_input_is_refused_before_any_change(params, target, tmp_path, request):
    inv, name = _inventory(tmp_path, target, params)
    before = fingerprint(name)
    run = _run(["ansible-playbook", "site.yml", "-i", str(inv), "--limit", name,
                "--vault-id", f"local@{VAULT_PASS}"], timeout=300)
    after = fingerprint(name)
    output = run.stdout + run.stderr
    assert run.returncode != 0, f"the run succeeded:\n{output[-3000:]}"
    assert not re.search(r"changed=[1-9]", output), f"something changed:\n{output[-3000:]}"
    assert not re.search(r"^changed: ", output, re.M), f"a task changed:\n{output[-3000:]}"
    diff = [f"- {line}" for line in sorted(set(before) - set(after))] + \
        [f"+ {line}" for line in sorted(set(after) - set(before))]
    assert not diff, "the host changed:\n" + "\n".join(diff[:40])
    task = failing_task(output)
    assert task == "" or task.startswith("TASK [preflight : "), f"it failed in a later task: {task}"
    message = _message(output, params["expect"], name, inv)
    assert message, f"expected '{params['expect']}' in:\n{output[-3000:]}"
    assert params["fix"] is None or re.search(params["fix"], message), f"the message does not say how to fix it ({params['fix']!r}): {message}"
    RESULTS[request.node.callspec.id] = (params["what"], message)


def test_docs_table_matches_the_cases():
    """docs/bad-inputs.md is this suite's table; regenerate it with UPDATE_DOCS=1."""
    ids = [p.id for p in CASES]
    missing = [i for i in ids if i not in RESULTS]
    assert not missing, f"cases did not pass, so the table cannot be built: {missing}"
    rows = ["| case | what is wrong | what the operator is told (before any change) |",
            "| --- | --- | --- |"]
    for cid in ids:
        what, message = RESULTS[cid]
        rows.append(f"| `{cid}` | {what} | {message.replace('|', '/')} |")
    table = "\n".join(rows) + "\n"
    text = (
        "# Bad inputs and what they produce\n\n"
        "Generated by `molecule/default/tests/test_bad_inputs.py` from real runs of `site.yml`\n"
        "against a converged test host: each run fails in the preflight (or, for the vault password,\n"
        "in Ansible before any task), names the problem and the fix, and changes nothing: the host's\n"
        "files under /etc and /srv, firewall, programs and packages are the same before and after.\n\n" + table
    )
    if os.environ.get("UPDATE_DOCS"):
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
    assert DOC.exists() and DOC.read_text() == text, (
        "docs/bad-inputs.md is out of date: run the verify with UPDATE_DOCS=1 and commit it")
