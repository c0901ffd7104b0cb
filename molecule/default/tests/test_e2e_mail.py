"""Mail from the application, end to end, read from the real mailboxes.

A person registers through the site over HTTPS (from the internet
container) and the confirmation e-mail, sent by the app through the host's
Postfix, lands in the local mailbox; following its link confirms the
account. An unhandled error in the production app reaches the
administrator's mailbox through the real SMTPHandler -> Postfix path.
"""

import re
import uuid

from outside import body, client, domain, mailbox_user, mails


def _base(host):
    return f"https://{domain(host)}"


def test_registration_mail_arrives_and_its_link_confirms_the_account(host):
    tag = uuid.uuid4().hex[:10]
    email = f"debian+{tag}@{domain(host)}"
    password = f"pw-{tag}-Secret!"
    reg = client("register", _base(host), email, f"user_{tag}", password)
    assert reg["status"] == 200, reg
    assert any("confirmation" in f.lower() for f in reg["flashes"]), reg["flashes"]

    found = mails(host, "debian", match=lambda m: email in (m["To"] or ""))
    ours = [m for m in found if email in (m["To"] or "")]
    assert ours, f"no confirmation mail for {email} in /var/mail/debian"
    text = body(ours[-1])
    link = re.search(rf"https://{re.escape(domain(host))}\S*/auth/confirm/\S+", text)
    assert link, f"no https confirmation link in:\n{text}"

    res = client("login-get", _base(host), email, password, link.group(0))
    assert res["status"] == 200, res
    assert any("confirmed" in f.lower() for f in res["flashes"]), res["flashes"]


def test_unhandled_error_in_production_mails_the_administrator(host):
    admin = host.ansible.get_variables()["app_admin_email"]
    user = mailbox_user(host, admin.split("@")[0])
    before = len(mails(host, user, timeout=0))
    # The token is signed with the app's SECRET_KEY: only someone on the host can make one.
    with host.sudo():
        token = host.check_output("/usr/local/bin/flasky-manage selftest-token").strip().splitlines()[-1]
    res = client("get", f"{_base(host)}/_selftest/error?token={token}")
    assert res["status"] == 500, res
    # Without the token the route does not exist.
    assert client("get", f"{_base(host)}/_selftest/error")["status"] == 404

    msgs = mails(host, user, match=lambda m: "SelfTestError" in body(m))
    new = [m for m in msgs[before:] if "SelfTestError" in body(m)]
    assert new, f"no error report in /var/mail/{user}"
    assert admin in new[-1]["To"]
