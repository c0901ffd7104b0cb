"""Where hosts of one environment reach each other.

Every role that needs another host's address (the firewall's source rules,
PostgreSQL's pg_hba entries, the balancer's pool, nginx's trusted proxies)
asks these filters, so "which address does host X use on the private
network" has one answer:

1. the host's `private_address` variable, when the inventory sets one;
2. else the IPv4 address of its default route, from its gathered facts;
3. else its `ansible_host`, when that is an address;
4. else nothing ("" -- callers assert on it with a message that says which
   host and how to fix it).
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def _is_address(value):
    try:
        ipaddress.ip_interface(str(value))
    except ValueError:
        return False
    return True


def private_address(name, hostvars):
    """The private address of inventory host `name` ("" when unknown)."""
    if name not in hostvars:
        raise AnsibleFilterError(f"private_address: {name!r} is not an inventory host")
    hv = hostvars[name]
    explicit = hv.get('private_address')
    if explicit:
        return str(explicit)
    facts = hv.get('ansible_facts') or {}
    address = (facts.get('default_ipv4') or {}).get('address')
    if address:
        return str(address)
    host = hv.get('ansible_host')
    if host and _is_address(host) and not ipaddress.ip_interface(str(host)).ip.is_loopback:
        return str(host)
    return ''


def private_addresses(sources, hostvars, groups):
    """Addresses of a list of sources: inventory hosts, groups, addresses or CIDRs.

    Hosts and groups become their members' private addresses (in order,
    without repeats); addresses, CIDRs and 'any' pass through unchanged. A
    name that is neither a host, a group nor an address is an error.
    """
    if isinstance(sources, str):
        sources = [sources]
    out = []
    for src in sources:
        src = str(src)
        if src in hostvars:
            names = [src]
        elif src in groups:
            names = list(groups[src])
        elif src == 'any' or _is_address(src):
            if src not in out:
                out.append(src)
            continue
        else:
            raise AnsibleFilterError(
                f"{src!r} is neither an inventory host, an inventory group, an address nor a CIDR")
        for name in names:
            address = private_address(name, hostvars)
            if address not in out:
                out.append(address)
    return out


def host_cidr(address):
    """An address as a one-host CIDR (10.0.0.5 -> 10.0.0.5/32); CIDRs pass through."""
    address = str(address)
    if '/' in address or address in ('', 'any'):
        return address
    return address + ('/128' if ':' in address else '/32')


class FilterModule:
    def filters(self):
        return {
            'private_address': private_address,
            'private_addresses': private_addresses,
            'host_cidr': host_cidr,
        }
