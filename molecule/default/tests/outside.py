"""The internet's side of the tests: commands run in the scenario's internet
container (scripts/internet-host.sh), which reaches the test hosts only
through their published services, like any client on the internet."""

import json
import mailbox
import os
import subprocess
import tempfile
import time
from pathlib import Path

INTERNET = os.environ.get("INTERNET_HOST") or \
    f"flasky-{os.environ.get('MOLECULE_SCENARIO_NAME', 'default')}-internet"
# Clients trust only the ACME test server's issuing root: a page that loads
# proves the certificate came from it.
ROOT_CA = "/etc/pebble/issuing-root.pem"
CLIENT = (Path(__file__).parent / "files" / "client.py").read_text()


def run(*cmd, stdin=None, timeout=180):
    """Run a command in the internet container (which must exist: no silent skip)."""
    res = subprocess.run(["docker", "exec", "-i", INTERNET, *cmd], input=stdin,
                         capture_output=True, text=True, timeout=timeout)
    assert "No such container" not in res.stderr, \
        f"no internet container {INTERNET}: scripts/internet-host.sh up {INTERNET} NETWORK"
    return res


def var(host, expr):
    """An inventory value as the playbook sees it (templated)."""
    return host.ansible("ansible.builtin.debug", f"msg={{{{ {expr} }}}}", check=False)["msg"]


def client(*args, timeout=120):
    """Run files/client.py (a small browser: cookies, CSRF, TLS) in the internet container."""
    res = run("python3", "-", ROOT_CA, *args, stdin=CLIENT, timeout=timeout)
    assert res.returncode == 0, f"client {args} failed:\n{res.stdout}\n{res.stderr}"
    return json.loads(res.stdout.strip().splitlines()[-1])


def domain(host):
    return host.ansible.get_variables()["app_domains"][0]


def mails(host, user, timeout=30, match=None):
    """Messages in a local mailbox on the host; waits until one matches."""
    deadline = time.time() + timeout
    while True:
        with host.sudo():
            f = host.file(f"/var/mail/{user}")
            raw = f.content_string if f.exists else ""
        with tempfile.NamedTemporaryFile("w", suffix=".mbox", delete=False) as tmp:
            tmp.write(raw)
        try:
            msgs = list(mailbox.mbox(tmp.name))
        finally:
            os.unlink(tmp.name)
        if match is None or any(match(m) for m in msgs) or time.time() > deadline:
            return msgs
        time.sleep(1)


def body(msg):
    """The text of a message, transfer encodings undone."""
    parts = msg.walk() if msg.is_multipart() else [msg]
    out = []
    for part in parts:
        if part.get_content_type() == "text/plain":
            out.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    return "\n".join(out)


def mailbox_user(host, local_part):
    """The local user whose /var/mail file receives mail for local_part (after /etc/aliases)."""
    name = local_part
    for _ in range(5):
        res = host.run(f"/usr/sbin/postalias -q {name} /etc/aliases")
        if res.rc != 0:
            return name
        name = res.stdout.strip().split(",")[0].strip().split("@")[0]
    return name
