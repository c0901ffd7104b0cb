"""Web hosts join and leave a live site under an outside load, with the
inventory as the only thing an operator edits:

- a new Debian host added to the web group and provisioned is not in the
  balancer's pool until its release answers its health check; the deploy
  puts it in, and it serves;
- taken out of the inventory again, a deploy takes it out of the pool
  before it is stopped; not one request fails throughout.
"""

import subprocess
import time
from pathlib import Path

import yaml

import kit
from conftest import Load, group, host, hosts_seen, lb_name, playbook, summary

testinfra_hosts = [lb_name()]
NEW = "flasky-cluster-web3"
GROUPS = ["local", "molecule", "molecule_cluster", "web", "mail"]


def pool():
    lb = host(lb_name())
    with lb.sudo():
        return lb.check_output("cat /etc/nginx/snippets/flasky-pool.conf")


def address(name):
    return subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                           name], capture_output=True, text=True, check=True).stdout.strip()


def inventory_with_new_host(port):
    """The scenario's inventory plus NEW in the web group, next to it (so its group_vars apply)."""
    current = Path(kit.inventory())
    data = yaml.safe_load(current.read_text())
    template = dict(next(iter(data["all"]["hosts"].values())))
    template["ansible_port"] = int(port)
    data["all"]["hosts"][NEW] = template
    for name in GROUPS:
        data.setdefault(name, {}).setdefault("hosts", {})[NEW] = {}
    path = current.parent / "with-web3.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_new_web_host_joins_only_when_healthy_and_leaves_before_it_stops():
    up = subprocess.run([str(kit.ROOT / "scripts" / "testhost.sh"), "up", NEW, "flasky-base:bookworm",
                         "--network", "flasky-cluster"], capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr
    inv = inventory_with_new_host(up.stdout.strip())
    backend = f"{address(NEW)}:8080"
    try:
        with Load() as load:
            # Provisioned, but no release yet: the balancer leaves it out.
            rc, out = playbook("playbooks/provision.yml", inv=str(inv))
            assert rc == 0, out[-4000:]
            assert f"# left out, unhealthy: {backend}" in pool(), pool()
            # Deployed: its release answers, it joins.
            deploying = time.time()
            rc, out = playbook("playbooks/deploy.yml", inv=str(inv))
            assert rc == 0, out[-4000:]
            assert f"server {backend} " in pool(), pool()
            joined = time.time()
            time.sleep(8)
            # Out of the inventory: the next deploy takes it out of the pool, then it stops.
            rc, out = playbook("playbooks/deploy.yml")
            assert rc == 0, out[-4000:]
            assert backend not in pool(), pool()
            left = time.time()
            subprocess.run(["docker", "stop", NEW], capture_output=True, timeout=120)
            time.sleep(5)
        result = load.result
        assert result["failed"] == 0, summary(result)
        assert NEW in hosts_seen(result, joined, left), "the new host got no traffic after it joined"
        assert NEW not in hosts_seen(result, until=deploying), "traffic reached the new host before its release did"
        assert hosts_seen(result, since=left + 1) == set(group("web")), summary(result)
    finally:
        inv.unlink(missing_ok=True)
        subprocess.run([str(kit.ROOT / "scripts" / "testhost.sh"), "down", NEW], capture_output=True, timeout=120)
