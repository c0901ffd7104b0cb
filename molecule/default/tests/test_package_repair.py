"""The roles install a package only when the preflight finds it missing
(filter_plugins/packages.py): the fast path must never skip a package that
is gone. A package a role needs is removed behind Ansible's back; the
role's own tag run puts it back, and the run after that changes nothing."""

import re

import kit

# hardening_host_packages: an audit tool nothing else on the host depends on.
PACKAGE = "debsums"


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
    assert kit.recap_changed(out, name) >= 1
    rc, out = kit.playbook("site.yml", name, "--tags", "hardening")
    assert rc == 0 and kit.recap_changed(out, name) == 0, out[-4000:]


# The same for the services and timers: the preflight lists the running and
# enabled units once (filter_plugins/units.py), and a role's start task runs
# only for a unit that list lacks.
def test_a_stopped_and_disabled_service_is_started_and_enabled_again(host):
    name = host.backend.get_hostname()
    with host.sudo():
        host.check_output("systemctl disable --now fail2ban")
    assert not host.service("fail2ban").is_running and not host.service("fail2ban").is_enabled
    rc, out = kit.playbook("site.yml", name, "--tags", "hardening")
    assert rc == 0, out[-4000:]
    assert host.service("fail2ban").is_running and host.service("fail2ban").is_enabled, out[-4000:]
    assert re.search(r"TASK \[hardening : Fail2ban runs now and at boot\][^\n]*\n(?:[^\n]*\n){0,3}changed:",
                     out), "the start task did not report the change"
    rc, out = kit.playbook("site.yml", name, "--tags", "hardening")
    assert rc == 0 and kit.recap_changed(out, name) == 0, out[-4000:]
