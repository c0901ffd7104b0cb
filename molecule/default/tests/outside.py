"""The internet's side of the tests: commands run in the scenario's internet
container (scripts/internet-host.sh), which reaches the test hosts only
through their published services, like any client on the internet."""

import json
import mailbox
import os
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

INTERNET = os.environ.get("INTERNET_HOST") or \
    f"flasky-{os.environ.get('MOLECULE_SCENARIO_NAME', 'default')}-internet"
# Clients trust only the ACME test server's issuing root: a page that loads
# proves the certificate came from it.
ROOT_CA = "/etc/pebble/issuing-root.pem"
CLIENT = (Path(__file__).parent / "files" / "client.py").read_text()
LOAD = (Path(__file__).parent / "files" / "load.py").read_text()


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


class Load:
    """CLIENTS concurrent GETs of URL from the internet container (files/load.py),
    every answer recorded. Each client starts a request every PACE seconds (16
    clients at 0.25 s: one new request every 16 ms, 64 per second): continuous
    and concurrent, yet it leaves this 2-core machine the CPU the playbooks under
    test need (a closed loop made every rollout several times slower).
    With new_connections, every request has a connection of its own: nothing
    is ever retried, so every request lost anywhere is a recorded failure."""

    def __init__(self, url, clients=16, max_seconds=2400, pace=0.25, new_connections=False):
        self.url, self.clients, self.pace = url, clients, pace
        self.stop_file = f"/tmp/load-stop-{uuid.uuid4().hex}"
        self.proc = subprocess.Popen(
            ["docker", "exec", "-i", INTERNET, "python3", "-", ROOT_CA, url,
             str(clients), str(max_seconds), self.stop_file, str(pace), "new" if new_connections else "reuse"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write(LOAD)
        self.proc.stdin.close()
        self.result = None
        time.sleep(2)  # every client has its first answers before the test acts

    def stop(self):
        if self.result is None:
            run("touch", self.stop_file)
            out = self.proc.stdout.read()
            err = self.proc.stderr.read()
            self.proc.wait(timeout=120)
            assert self.proc.returncode == 0, err
            self.result = json.loads(out.strip().splitlines()[-1])
            run("rm", "-f", self.stop_file)
        return self.result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def summary(result):
    return (f"{result['requests']} requests, {result['failed']} failed, {result['retries']} retried; "
            f"first failures: {result['failures'][:5]}")


def releases_seen(result, since=0.0, until=float("inf")):
    return {r[3] for r in result["records"] if r[2] == 200 and since <= r[0] <= until}


def hosts_seen(result, since=0.0, until=float("inf")):
    return {r[4] for r in result["records"] if r[2] == 200 and since <= r[0] <= until}


def assert_steady(result, started, ended, min_rate=5.0):
    """The load ran through [started, ended] and its count fits its rate."""
    assert result["started"] <= started and result["ended"] >= ended, \
        f"the load ran {result['started']}..{result['ended']}, the action {started}..{ended}"
    duration = result["ended"] - result["started"]
    assert result["requests"] >= min_rate * duration, f"{result['requests']} requests in {duration:.0f} s"
    # Every moment of the run had a request in flight (sent, not yet answered):
    # a slow answer covers its seconds, an idle gap proves nothing.
    covered_until, gap = result["started"], 0.0
    for start, end, *_ in sorted(result["records"]):
        gap = max(gap, start - covered_until)
        covered_until = max(covered_until, end)
    gap = max(gap, result["ended"] - covered_until)
    assert gap < 1, f"no request was in flight for {gap:.1f} s: nothing proves those seconds"


def address(host):
    """A test host's address on the scenario network (what the outside reaches)."""
    route = host.check_output("ip -4 -o route get 1.1.1.1")
    return re.search(r"\bsrc (\S+)", route).group(1)


def own_address(target):
    """The internet container's own address, as `target` sees it."""
    route = run("ip", "-4", "-o", "route", "get", target).stdout
    return re.search(r"\bsrc (\S+)", route).group(1)


def served_certificate(domain, *fields, verify=False):
    """`openssl x509 -noout FIELDS` of the certificate the site serves, seen from
    outside; with verify, the handshake must verify against Pebble's root only."""
    check = f" -CAfile {ROOT_CA} -verify_return_error" if verify else ""
    res = run("sh", "-c", f"openssl s_client -connect {domain}:443 -servername {domain}{check} </dev/null 2>/dev/null"
                          f" | openssl x509 -noout {' '.join(fields)}")
    assert res.returncode == 0, f"no certificate from {domain}: {res.stderr}"
    return res.stdout


def scan(target, ports="1-65535"):
    """An nmap TCP scan of `target` from outside: ({port: state} of the ports
    nmap lists, (state, count) of the ports it summed up as "Ignored State")."""
    res = run("nmap", "-Pn", "-T4", "--min-rate", "10000", "--max-retries", "1",
              "-p", ports, "-oG", "-", target, timeout=300)
    assert res.returncode == 0, res.stderr
    listed = {int(p): s for p, s in re.findall(r"(\d+)/(\w+(?:\|\w+)?)/tcp", res.stdout)}
    ignored = re.search(r"Ignored State: (\S+) \((\d+)\)", res.stdout)
    return listed, (ignored.group(1), int(ignored.group(2))) if ignored else (None, 0), res.stdout


def can_connect(target, port, timeout=5):
    """Does a TCP connection from outside to target:port open?"""
    res = run("timeout", str(timeout), "bash", "-c", f"</dev/tcp/{target}/{port}", timeout=timeout + 30)
    return res.returncode == 0
