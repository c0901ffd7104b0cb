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


# The same for the locale: the preflight reads `locale -a` and
# /etc/default/locale, and base's two locale tasks run only when they differ.
def test_a_removed_locale_and_an_edited_default_are_put_back(host):
    name = host.backend.get_hostname()
    locale = host.ansible.get_variables().get("base_locale", "en_US.UTF-8")
    listed = locale.split(".")[0] + ".utf8"
    with host.sudo():
        host.check_output("printf 'LANG=C.UTF-8\\n' > /etc/default/locale && chmod 600 /etc/default/locale")
        host.check_output(f"sed -i 's/^{locale}/# {locale}/' /etc/locale.gen && locale-gen")
        assert listed not in host.check_output("locale -a").split()
    rc, out = kit.playbook("site.yml", name, "--tags", "base")
    assert rc == 0, out[-4000:]
    for task in ("Generate the locale", "Make the locale the system default"):
        assert re.search(rf"TASK \[base : {task}\][^\n]*\n(?:[^\n]*\n){{0,3}}changed:", out), f"{task}: no change"
    with host.sudo():
        assert listed in host.check_output("locale -a").split()
        assert host.file("/etc/default/locale").content_string == f"LANG={locale}\n"
        assert host.file("/etc/default/locale").mode == 0o644
    rc, out = kit.playbook("site.yml", name, "--tags", "base")
    assert rc == 0 and kit.recap_changed(out, name) == 0, out[-4000:]
