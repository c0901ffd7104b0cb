"""Shared tools of the cluster scenario's tests: the default scenario's
helpers (kit: playbooks as an operator runs them; outside: the internet
container), the cluster's hosts by group, and a steady outside load."""

import functools
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import testinfra

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "default" / "tests"))

import kit  # noqa: E402
import outside  # noqa: E402

LOAD = (HERE / "files" / "load.py").read_text()


@functools.lru_cache(maxsize=None)
def groups():
    res = subprocess.run(["ansible-inventory", "-i", kit.inventory(), "--list",
                          "--vault-id", f"local@{kit.VAULT_PASS}"],
                         cwd=kit.ROOT, env=kit.ansible_env(), capture_output=True, text=True, check=True)
    data = json.loads(res.stdout)
    out = {g: sorted(v.get("hosts", [])) for g, v in data.items() if isinstance(v, dict) and g != "_meta"}
    out["all"] = sorted(data["_meta"]["hostvars"])
    return out


def group(name):
    return groups()[name]


def lb_name():
    return group("loadbalancer")[0]


@functools.lru_cache(maxsize=None)
def host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=kit.inventory())


def address(name):
    """A container's address on the scenario network (what the other hosts reach)."""
    out = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out, f"{name} has no address"
    return out[0]


DOMAIN = "cluster.flasky.internal"
BASE = f"https://{DOMAIN}"


def curl(*args, timeout=60):
    """curl in the internet container, trusting only Pebble's issuing root."""
    return outside.run("curl", "-sS", "--cacert", outside.ROOT_CA, "--max-time", "20", *args, timeout=timeout)


def healthz():
    res = curl(f"{BASE}/healthz")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def reach(src, address_, port, timeout=3):
    """Can host `src` open a TCP connection to address_:port?"""
    res = host(src).run(f"timeout {timeout} bash -c '</dev/tcp/{address_}/{port}'")
    return res.rc == 0


class Load:
    """CLIENTS concurrent GETs of URL from the internet container, every answer
    recorded. Each client starts a request every PACE seconds (16 clients at
    0.25 s: one new request every 16 ms, 64 per second): continuous and
    concurrent, yet it leaves this 2-core machine the CPU the playbooks under
    test need (a closed loop made every rollout several times slower)."""

    def __init__(self, path="/healthz", clients=16, max_seconds=2400, pace=0.25):
        self.stop_file = f"/tmp/load-stop-{uuid.uuid4().hex}"
        self.proc = subprocess.Popen(
            ["docker", "exec", "-i", outside.INTERNET, "python3", "-", outside.ROOT_CA, BASE + path,
             str(clients), str(max_seconds), self.stop_file, str(pace)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write(LOAD)
        self.proc.stdin.close()
        self.result = None
        time.sleep(2)  # every client has its first answers before the test acts

    def stop(self):
        if self.result is None:
            outside.run("touch", self.stop_file)
            out = self.proc.stdout.read()
            err = self.proc.stderr.read()
            self.proc.wait(timeout=120)
            assert self.proc.returncode == 0, err
            self.result = json.loads(out.strip().splitlines()[-1])
            outside.run("rm", "-f", self.stop_file)
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


def live_release(name):
    with host(name).sudo():
        return host(name).check_output(f"readlink {kit.HOME}/current").rsplit("/", 1)[-1]


def playbook(name, *extra, limit="all", inv=None, timeout=1500):
    return kit.playbook(name, limit, *extra, timeout=timeout, inv=inv)


def recap_changed(output):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", output, re.M)}
