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


def case(cid, what, vars_=None, secrets=None, drop=(), expect="", vault_password=None):
    return pytest.param(
        dict(what=what, vars=vars_ or {}, secrets=secrets or {}, drop=drop,
             expect=expect, vault_password=vault_password),
        id=cid,
    )


CASES = [
    case("missing-vault-variable", "the vault lacks vault_app_secret_key",
         drop=["vault_app_secret_key"], expect="vault_app_secret_key is not set"),
    case("placeholder-secret", "the example vault was encrypted unedited",
         secrets={"vault_app_secret_key": "CHANGE_ME: openssl rand -base64 48"},
         expect="vault_app_secret_key looks like a placeholder"),
    case("short-secret", "the database password is too short",
         secrets={"vault_app_db_password": "hunter2"},
         expect="vault_app_db_password looks like a placeholder or is shorter than 16"),
    case("wrong-vault-password", "the vault was encrypted with another password",
         vault_password="not-the-environment-password", expect="Decryption failed"),
    case("malformed-domain", "a domain name with a space and a double dot",
         vars_={"app_domains": ["exa mple..com"]}, expect="app_domains must be a list of DNS names"),
    case("domain-not-a-list", "app_domains given as a string instead of a list",
         vars_={"app_domains": "example.com"}, expect="app_domains must be a list of DNS names"),
    case("no-domain", "app_domains left empty",
         vars_={"app_domains": []}, expect="app_domains is not set"),
    case("malformed-email", "the administrator's address has no @",
         vars_={"app_admin_email": "admin.example.com"}, expect="is not an e-mail address"),
    case("unsupported-os", "the host's OS release is not a supported one",
         vars_={"preflight_supported_os": {"Debian": ["11"]}}, expect="supported: Debian 11"),
    case("unknown-time-zone", "a time zone the host does not know",
         vars_={"base_timezone": "Mars/Olympus_Mons"}, expect="is not a time zone known to"),
    case("wrong-type", "a number given as a word",
         vars_={"base_apt_cache_valid_time": "an hour"}, expect="base_apt_cache_valid_time"),
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
    password = params["vault_password"] or _run([str(VAULT_PASS)]).stdout.strip()
    _encrypt(gv / "vault.yml", secrets, password)
    return inv, name


def _message(output, expect):
    """The line of the run's output that carries the expected message."""
    for line in output.splitlines():
        if expect.lower() in line.lower():
            line = re.sub(r"^\[ERROR\]: (Task failed: )?(Action failed: )?", "", line.strip())
            line = re.sub(r"flasky-default-\w+", "<host>", line)
            line = re.sub(r"(Debian \d+)\.\d+", r"\1.x", line)  # point releases move on
            return line.strip().strip('"')
    return None


RESULTS = {}


@pytest.mark.parametrize("params", CASES)
def test_bad_input_is_refused_before_any_change(params, target, tmp_path, request):
    inv, name = _inventory(tmp_path, target, params)
    run = _run(["ansible-playbook", "site.yml", "-i", str(inv), "--limit", name,
                "--vault-id", f"local@{VAULT_PASS}"], timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode != 0, f"the run succeeded:\n{output[-3000:]}"
    assert not re.search(r"changed=[1-9]", output), f"something changed:\n{output[-3000:]}"
    assert not re.search(r"^changed: ", output, re.M), f"a task changed:\n{output[-3000:]}"
    message = _message(output, params["expect"])
    assert message, f"expected '{params['expect']}' in:\n{output[-3000:]}"
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
        "against a test host: each run fails, names the problem, and changes nothing.\n\n" + table
    )
    if os.environ.get("UPDATE_DOCS"):
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
    assert DOC.exists() and DOC.read_text() == text, (
        "docs/bad-inputs.md is out of date: run the verify with UPDATE_DOCS=1 and commit it")
