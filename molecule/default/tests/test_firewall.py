"""Firewall (ufw): deny by default, SSH rate limited, only the web ports open.

The outside checks run from the scenario's "internet" container
(scripts/internet-host.sh; name in $INTERNET_HOST, default flasky-default-internet).
"""

import re


import outside

EXPECTED_OPEN = {22, 80, 443}
# Ports that must never be reachable from outside: PostgreSQL, SMTP, submission,
# gunicorn/flask development ports, supervisor's inet server.
MUST_BE_CLOSED = {25, 587, 5432, 5000, 8000, 9001}


def ufw_status(host):
    with host.sudo():
        return host.check_output("ufw status verbose")


def internet(*argv):
    return outside.run(*argv, timeout=300)


address = outside.address


def test_ufw_active_and_denies_incoming_by_default(host):
    status = ufw_status(host)
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in status


def test_ufw_enabled_at_boot(host):
    assert host.file("/etc/ufw/ufw.conf").contains("^ENABLED=yes")
    assert host.service("ufw").is_enabled


def test_rules_are_loaded_in_the_kernel(host):
    # ufw says active only if its chains are in place; check the netfilter side too
    # (iptables-nft on both suites), not just ufw's files.
    with host.sudo():
        rules = host.check_output("iptables -S ufw-user-input")
        policy = host.check_output("iptables -S INPUT")
    assert re.search(r"--dport 22 .*-m recent --set", rules), rules
    assert "-P INPUT DROP" in policy


def test_ssh_is_rate_limited(host):
    assert re.search(r"^22/tcp\s+LIMIT IN\s+Anywhere\s", ufw_status(host), re.M)


def test_web_ports_allowed(host):
    status = ufw_status(host)
    for port in (80, 443):
        assert re.search(rf"^{port}/tcp\s+ALLOW IN\s+Anywhere\s", status, re.M), port


def test_nothing_else_open_to_anywhere(host):
    opened = {int(m) for m in re.findall(r"^(\d+)/\S+\s+(?:ALLOW|LIMIT) IN\s+Anywhere", ufw_status(host), re.M)}
    assert opened <= EXPECTED_OPEN


def test_database_rule_only_from_named_hosts(host):
    # The molecule group vars open 5432 from the `molecule` inventory group: the
    # group name must have become the hosts' addresses, never Anywhere.
    sources = re.findall(r"^5432/tcp\s+ALLOW IN\s+(\S+)", ufw_status(host), re.M)
    assert sources, "no PostgreSQL rule"
    assert "Anywhere" not in sources
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", s) for s in sources), sources


def test_outside_scan_sees_only_ssh_and_web(host):
    listed, _, raw = outside.scan(address(host))
    open_ports = {p for p, state in listed.items() if state == "open"}
    assert 22 in open_ports, raw
    # 80/443 are open once nginx runs; nothing else ever.
    assert open_ports <= EXPECTED_OPEN, raw
    assert not open_ports & MUST_BE_CLOSED


def forget_ssh_attempts(host, target):
    """Clear the internet container from ufw's SSH limit list (xt_recent)."""
    route = internet("ip", "-4", "-o", "route", "get", target).stdout
    source = re.search(r"\bsrc (\S+)", route).group(1)
    with host.sudo():
        host.run(f"echo -{source} > /proc/net/xt_recent/DEFAULT")


def test_ssh_rate_limit_drops_the_sixth_new_connection(host):
    # Half-open SYN probes: each counts as a new connection for ufw's limit, but
    # none reaches sshd, so fail2ban sees nothing. Later tests start afresh.
    target = address(host)
    forget_ssh_attempts(host, target)
    states = []
    try:
        for _ in range(7):
            probe = internet("nmap", "-Pn", "-sS", "--max-retries", "0", "-p", "22", "-oG", "-", target)
            found = re.search(r"22/(\w+)/tcp", probe.stdout)
            states.append(found.group(1) if found else "none")
    finally:
        forget_ssh_attempts(host, target)
    assert states[:5] == ["open"] * 5, states
    assert "open" not in states[5:], states
