"""The roles install a package only when the preflight finds it missing
(filter_plugins/packages.py): the fast path must never skip a package that
is gone. A package a role needs is removed behind Ansible's back; the
role's own tag run puts it back, and the run after that changes nothing."""

import re

import kit

# hardening_host_packages: an audit tool nothing else on the host depends on.
PACKAGE = "debsums"


def recap_changed(out, name):
    m = re.search(rf"^{re.escape(name)}\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", out, re.M)
    assert m, out[-3000:]
    return int(m.group(1))


def test_a_removed_package_is_installed_again(host):
    name = host.backend.get_hostname()
    with host.sudo():
        host.check_output(f"DEBIAN_FRONTEND=noninteractive apt-get remove -y -q {PACKAGE}")
        assert not host.package(PACKAGE).is_installed
    rc, out = kit.playbook("site.yml", name, "--tags", "hardening")
    assert rc == 0, out[-4000:]
    assert host.package(PACKAGE).is_installed, f"{PACKAGE} was not installed again:\n{out[-4000:]}"
    assert re.search(r"TASK \[hardening : Install the audit and maintenance tools\][^\n]*\n(?:[^\n]*\n){0,3}changed:",
                     out), "the install task did not report the change"
    assert recap_changed(out, name) >= 1
    rc, out = kit.playbook("site.yml", name, "--tags", "hardening")
    assert rc == 0 and recap_changed(out, name) == 0, out[-4000:]
