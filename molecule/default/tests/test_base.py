"""Host basics: what every later role relies on."""


def test_python_apt_and_acl_present(host):
    # acl lets Ansible become an unprivileged user (postgres, flasky) safely.
    for pkg in ("acl", "python3-apt", "locales"):
        assert host.package(pkg).is_installed, pkg


def test_time_zone(host):
    assert host.file("/etc/localtime").linked_to.endswith("Etc/UTC")


def test_default_locale_generated_and_set(host):
    assert "en_US.utf8" in host.check_output("locale -a")
    assert host.file("/etc/default/locale").contains("^LANG=en_US.UTF-8$")


def test_app_user_is_unprivileged(host):
    user = host.user("flasky")
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000
    assert "sudo" not in user.groups
    assert host.file("/srv/flasky").is_directory
    assert host.file("/srv/flasky").user == "flasky"
