"""Firewall (ufw): deny by default, SSH rate limited, only the web ports open,
over IPv4 and, where the host has an address, IPv6 (the default scenario's
network is dual stack: molecule.yml gives it an IPv6 subnet).

The outside checks run from the scenario's "internet" container
(scripts/internet-host.sh; name in $INTERNET_HOST, default flasky-default-internet).
"""

import re
import time

import pytest

import kit
import outside

EXPECTED_OPEN = {22, 80, 443}
# A port the tests open inside the host (a listener on every address, both
# families) that no rule allows: the firewall, not the absence of a service,
# must keep it from the outside.
PROBE_PORT = 9876
# Ports that must never be reachable from outside: PostgreSQL, SMTP, submission,
# gunicorn/flask development ports, supervisor's inet server.
MUST_BE_CLOSED = {25, 587, 5432, 5000, 8000, 9001}


def ufw_status(host):
    with host.sudo():
        return host.check_output("ufw status verbose")


def internet(*argv):
    return outside.run(*argv, timeout=300)


address = outside.address


def address6(host):
    """The host's global IPv6 address on the scenario network, or None."""
    found = re.search(r"\binet6 ([0-9a-f:]+)/", host.check_output("ip -6 -o addr show scope global"))
    return found.group(1) if found else None


def scenario_has_ipv6():
    """The internet container has a global IPv6 address: the scenario network is dual stack."""
    res = internet("ip", "-6", "-o", "addr", "show", "scope", "global")
    assert res.returncode == 0, res.stderr
    return "inet6" in res.stdout


@pytest.fixture(scope="module")
def target6(host):
    """The address the IPv6 checks scan. On a dual-stack scenario network a host
    without one is a failure, not a reason to skip."""
    if not scenario_has_ipv6():
        pytest.fail("the scenario network has no IPv6 subnet (ipv6_subnet in molecule.yml): nothing to check over IPv6")
    target = address6(host)
    assert target, "the scenario network is dual stack but the host has no global IPv6 address"
    return target


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


def test_ufw_filters_ipv6_with_the_same_policy(host):
    assert host.file("/etc/default/ufw").contains("^IPV6=yes$")
    with host.sudo():
        policy = host.check_output("ip6tables -S INPUT")
        rules = host.check_output("ip6tables -S ufw6-user-input")
    assert "-P INPUT DROP" in policy
    assert re.search(r"--dport 22 .*-m recent --set", rules), rules


def test_ipv6_rules_match_the_ipv4_ones(host):
    status = ufw_status(host)
    assert re.search(r"^22/tcp \(v6\)\s+LIMIT IN\s+Anywhere \(v6\)", status, re.M), status
    for port in (80, 443):
        assert re.search(rf"^{port}/tcp \(v6\)\s+ALLOW IN\s+Anywhere \(v6\)", status, re.M), port
    opened = {int(m) for m in re.findall(r"^(\d+)/\S+ \(v6\)\s+(?:ALLOW|LIMIT) IN\s+Anywhere", status, re.M)}
    assert opened <= EXPECTED_OPEN


def test_nginx_listens_on_ipv6(host, target6):
    listening = host.check_output("ss -Hltn")
    for port in (80, 443):
        assert re.search(rf"\[::\]:{port}\s", listening), listening


def test_outside_scan_over_ipv6_sees_only_ssh_and_web(host, target6):
    # Earlier scans count against ufw's SSH limit: start afresh, so 22 answers.
    forget_ssh_attempts(host, target6)
    scan = internet("nmap", "-6", "-Pn", "-T4", "--min-rate", "10000", "--max-retries", "1",
                    "-p", "1-65535", "--open", "-oG", "-", target6)
    assert scan.returncode == 0, scan.stderr
    open_ports = {int(p) for p in re.findall(r"(\d+)/open/tcp", scan.stdout)}
    # The scan reaches the host over IPv6: the allowed ports answer.
    assert open_ports >= EXPECTED_OPEN, scan.stdout
    assert open_ports <= EXPECTED_OPEN, scan.stdout


@pytest.fixture()
def probe_listener(host):
    """A service listening on every address of both families on PROBE_PORT, for one test."""
    unit = "firewall-probe-listener"
    script = ("import socket, time; s = socket.socket(socket.AF_INET6); "
              "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); "
              f"s.bind(('::', {PROBE_PORT})); s.listen(); time.sleep(900)")
    with host.sudo():
        host.run(f"systemctl stop {unit}")
        started = host.run(f"systemd-run --unit={unit} --collect python3 -c \"{script}\"")
        assert started.rc == 0, started.stderr
        for _ in range(50):
            if re.search(rf"\[::\]:{PROBE_PORT}\s", host.check_output("ss -Hltn")):
                break
            time.sleep(0.2)
    try:
        yield PROBE_PORT
    finally:
        with host.sudo():
            host.run(f"systemctl stop {unit}")


def connects(host, address, port):
    """Whether the host itself reaches address:port (a connect() from inside)."""
    res = host.run(f"python3 -c \"import socket; socket.create_connection(('{address}', {port}), timeout=3)\"")
    return res.rc == 0


def test_a_port_open_inside_but_not_allowed_is_filtered_over_both_families(host, target6, probe_listener):
    port = probe_listener
    targets = {"IPv4": (address(host), []), "IPv6": (target6, ["-6"])}
    for family, (target, flags) in targets.items():
        # Open inside: the host reaches its own service on that address.
        assert connects(host, target, port), f"nothing answers {target}:{port} inside the host"
        probe = internet("nmap", *flags, "-Pn", "--max-retries", "1", "-p", str(port), "-oG", "-", target)
        assert probe.returncode == 0, probe.stderr
        state = re.search(rf"{port}/(\w+)/tcp", probe.stdout)
        assert state and state.group(1) == "filtered", f"{family} {target}:{port} from outside: {probe.stdout}"


def forget_ssh_attempts(host, target):
    """Clear the internet container from ufw's SSH limit list (xt_recent)."""
    route = internet("ip", "-6" if ":" in target else "-4", "-o", "route", "get", target).stdout
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


RULE_LOOP = "TASK [ufw : Allow SSH first"


def test_a_rule_deleted_by_hand_comes_back(host):
    """A no-op run skips the rule loop while the role's record of the rules
    matches the rule files (roles/ufw/vars/main.yml); a rule removed behind
    Ansible's back changes those files, so the next run applies the rules again."""
    name = host.backend.get_hostname()
    with host.sudo():
        host.check_output("ufw delete allow 443/tcp")
    assert not re.search(r"^443/tcp\s", ufw_status(host), re.M)
    rc, out = kit.playbook("site.yml", name, "--tags", "ufw")
    assert rc == 0, out[-4000:]
    assert re.search(r"^443/tcp\s+ALLOW IN\s+Anywhere", ufw_status(host), re.M), ufw_status(host)
    assert kit.recap_changed(out, name) >= 1
    assert RULE_LOOP in out, "the rules were not applied again"
    rc, out = kit.playbook("site.yml", name, "--tags", "ufw")
    assert rc == 0 and kit.recap_changed(out, name) == 0, out[-4000:]
    # (A task every host skips prints no header: ansible.cfg hides skipped hosts.)
    assert RULE_LOOP not in out, "the second run applied the rules again instead of reading the record"
