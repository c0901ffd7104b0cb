"""Shared tools of the cluster scenario's tests: the default scenario's
helpers (kit: playbooks as an operator runs them; outside: the internet
container), the cluster's hosts by group, and a steady outside load."""

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import testinfra

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "default" / "tests"))

import kit  # noqa: E402
import outside  # noqa: E402
from outside import assert_steady, hosts_seen, releases_seen, summary  # noqa: E402,F401 (the tests import them from here)


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


def sql(name, query, database="postgres"):
    """A query run by the postgres user on host `name` (its output, unaligned)."""
    res = host(name).run(f"sudo -u postgres psql -XAt -d {database} -c \"{query}\"")
    assert res.rc == 0, res.stderr
    return res.stdout.strip()


def reach(src, address_, port, timeout=3):
    """Can host `src` open a TCP connection to address_:port?"""
    res = host(src).run(f"timeout {timeout} bash -c '</dev/tcp/{address_}/{port}'")
    return res.rc == 0


class Load(outside.Load):
    """The shared outside load (outside.Load), aimed at the balancer."""

    def __init__(self, path="/healthz", clients=16, max_seconds=2400, pace=0.25):
        super().__init__(BASE + path, clients=clients, max_seconds=max_seconds, pace=pace)


def live_release(name):
    with host(name).sudo():
        return host(name).check_output(f"readlink {kit.HOME}/current").rsplit("/", 1)[-1]


def playbook(name, *extra, limit="all", inv=None, timeout=1500):
    return kit.playbook(name, limit, *extra, timeout=timeout, inv=inv)


def recap_changed(output):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", output, re.M)}
