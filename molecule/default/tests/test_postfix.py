"""Postfix: a send-only MTA on loopback that delivers the admin's mail locally."""

import json
import time
import uuid

import pytest

import kit

MAILBOX = "/var/mail/root"  # postfix_admin_local_user's mailbox


@pytest.fixture(scope="module")
def inventory(host):
    return host.ansible.get_variables()


def wait_for_mail(host, token, mailbox=MAILBOX, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with host.sudo():
            if host.run("grep -q %s %s", token, mailbox).rc == 0:
                return True
        time.sleep(1)
    return False


def test_postfix_enabled_and_running(host):
    assert host.service("postfix").is_enabled
    assert host.service("postfix").is_running


def test_postfix_first_started_configured_and_the_hold_is_lifted(host):
    """The role installs Postfix with services held back (roles/postfix/tasks/install.yml):
    its first start is with main.cf in place, so since the converge booted the host no Postfix
    master has been stopped (the package's own start, listening on every address, would have
    needed a restart), and the role's policy-rc.d is gone (no later package stays stopped)."""
    with host.sudo():
        log = host.check_output("journalctl -b --no-pager -o cat -t postfix/master")
        policy = host.file("/usr/sbin/policy-rc.d")
        held = policy.exists and "postfix role of flasky-deploy" in policy.content_string
    assert "daemon started" in log, log
    assert "terminating on signal" not in log, log
    assert not held, "the role's policy-rc.d was left behind"


def test_smtp_listens_on_loopback_only(host):
    listening = [s for s in host.socket.get_listening_sockets() if s.endswith(":25")]
    assert "tcp://127.0.0.1:25" in listening
    assert set(listening) <= {"tcp://127.0.0.1:25", "tcp://::1:25"}, listening


def test_nothing_answers_on_the_network_address(host):
    address = host.check_output("hostname -I").split()[0]
    probe = host.run(
        "python3 -c %s %s",
        "import socket,sys; s=socket.socket(); s.settimeout(3); sys.exit(s.connect_ex((sys.argv[1], 25)))",
        address)
    assert probe.rc != 0, f"port 25 answers on {address}"


def test_never_an_open_relay(host):
    postconf = host.check_output("/usr/sbin/postconf -h inet_interfaces mynetworks smtpd_relay_restrictions").splitlines()
    assert postconf[0] == "loopback-only"
    assert postconf[1].split() == ["127.0.0.0/8", "[::ffff:127.0.0.0]/104", "[::1]/128"]
    restrictions = [r.strip() for r in postconf[2].replace(",", " ").split()]
    assert restrictions == ["permit_mynetworks", "reject_unauth_destination"]


def test_myhostname_from_the_inventory(host, inventory):
    assert host.check_output("/usr/sbin/postconf -h myhostname") == inventory["app_domains"][0]
    assert host.file("/etc/mailname").content_string.strip() == inventory["app_domains"][0]


def test_admin_address_is_aliased_to_a_local_mailbox(host, inventory):
    local_part = inventory["app_admin_email"].split("@")[0]
    assert host.check_output("/usr/sbin/postalias -q %s hash:/etc/aliases", local_part) == "root"


def test_mail_submitted_with_sendmail_arrives(host, inventory):
    token = uuid.uuid4().hex
    message = f"To: {inventory['app_admin_email']}\nSubject: sendmail check {token}\n\nbody {token}\n"
    host.check_output("printf %s %s | /usr/sbin/sendmail -t", "%s", message)
    assert wait_for_mail(host, token), f"mail {token} not in {MAILBOX}"


def test_mail_sent_over_smtp_on_localhost_arrives(host, inventory):
    # What the app does: SMTP to localhost:25, no login.
    token = uuid.uuid4().hex
    script = (
        "import smtplib,sys\n"
        "s=smtplib.SMTP('127.0.0.1',25,timeout=10)\n"
        "s.sendmail('flasky@'+sys.argv[2],[sys.argv[1]],'Subject: smtp check '+sys.argv[3]+'\\n\\n'+sys.argv[3]+'\\n')\n"
        "s.quit()\n"
    )
    host.check_output("python3 -c %s %s %s %s", script, inventory["app_admin_email"],
                      inventory["app_domains"][0], token)
    assert wait_for_mail(host, token), f"mail {token} not in {MAILBOX}"


def test_a_new_install_checks_main_cf_before_postfix_first_starts(host, inventory):
    """On a host without Postfix the role writes main.cf before the package (postconf is not
    there yet to validate it) and checks it after the install: a misspelt parameter stops the
    run there, with Postfix not started. The next run with good settings installs nothing,
    starts Postfix, and mail arrives. (Last in this file: the purge stops a Postfix master.)"""
    name = host.backend.get_hostname()
    # ([m]: the pattern does not match the shell that runs pgrep.)
    master_runs = "pgrep -f '/usr/lib/postfix/sbin/[m]aster'"
    try:
        with host.sudo():
            # Stopped first: Debian 13's package leaves its master running when it is purged.
            host.check_output("systemctl stop postfix")
            host.check_output("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q postfix")
            assert host.run(master_runs).rc != 0, "a Postfix master still runs"
        assert not host.package("postfix").is_installed
        bad = json.dumps({"postfix_extra_settings": {"smtpd_misspelt_parameter": "yes"}})
        rc, out = kit.playbook("site.yml", name, "--tags", "postfix", "-e", bad)
        assert rc != 0, out[-4000:]
        assert "TASK [postfix : Check main.cf now that Postfix is installed" in out, out[-4000:]
        assert "unused parameter: smtpd_misspelt_parameter=yes" in " ".join(out.split()), out[-4000:]
        assert host.package("postfix").is_installed
        with host.sudo():
            assert host.run(master_runs).rc != 0, "Postfix started with the refused main.cf"
        assert not [s for s in host.socket.get_listening_sockets() if s.endswith(":25")]
    finally:
        rc, out = kit.playbook("site.yml", name, "--tags", "postfix")
    assert rc == 0, out[-4000:]
    assert host.service("postfix").is_running
    token = uuid.uuid4().hex
    message = f"To: {inventory['app_admin_email']}\nSubject: reinstall check {token}\n\nbody {token}\n"
    host.check_output("printf %s %s | /usr/sbin/sendmail -t", "%s", message)
    assert wait_for_mail(host, token), f"mail {token} not in {MAILBOX}"
