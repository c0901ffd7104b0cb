"""Mail out through a smarthost with SMTP AUTH: a web host's Postfix,
configured by site.yml with postfix_relayhost and a login, hands a mail to
a real submission server in the internet container (files/smarthost.py:
STARTTLS and AUTH required, the one login accepted), and it arrives there
under that login, over TLS. The password shows in no output. Run again
without the smarthost, the host sends directly and keeps no login file.
"""

import json
import subprocess
import time
import uuid
from pathlib import Path

import outside
from conftest import group, host, playbook

testinfra_hosts = [group("web")[0]]
WEB = group("web")[0]
RELAY = "[pebble]:587"
USER = "flasky-relay"
PASSWORD = f"test-only-relay-{uuid.uuid4().hex}"
SERVER = Path(__file__).parent / "files" / "smarthost.py"


def smarthost(kept):
    """Start the smarthost in the internet container; it appends what it takes to `kept`."""
    subprocess.run(["docker", "exec", "-i", outside.INTERNET, "sh", "-c", "cat > /usr/local/bin/smarthost.py"],
                   input=SERVER.read_text(), text=True, check=True)
    outside.run("pkill", "-f", "smarthost.py")
    subprocess.run(["docker", "exec", "-d", outside.INTERNET, "python3", "/usr/local/bin/smarthost.py",
                    USER, PASSWORD, kept], check=True)
    deadline = time.time() + 30
    while outside.run("bash", "-c", "</dev/tcp/127.0.0.1/587").returncode != 0:
        assert time.time() < deadline, "the smarthost did not start"
        time.sleep(0.5)


def test_mail_goes_out_through_a_smarthost_with_auth():
    kept = f"/tmp/smarthost-{uuid.uuid4().hex}.jsonl"
    smarthost(kept)
    web = host(WEB)
    try:
        rc, out = playbook("site.yml", "--tags", "postfix", "-e", f"postfix_relayhost={RELAY}",
                           "-e", f"postfix_relay_user={USER}", "-e", f"postfix_relay_password={PASSWORD}", limit=WEB)
        assert rc == 0, out[-3000:]
        assert PASSWORD not in out.replace(f"postfix_relay_password={PASSWORD}", ""), "the password is in the output"
        with web.sudo():
            assert web.run("postconf -h relayhost").stdout.strip() == RELAY
            assert web.file("/etc/postfix/sasl_passwd").mode == 0o600
        token = uuid.uuid4().hex
        sent = web.run(f"printf 'To: someone@example.net\\nSubject: relay {token}\\n\\nthrough the smarthost\\n'"
                       " | sudo /usr/sbin/sendmail -t")
        assert sent.rc == 0, sent.stderr
        deadline = time.time() + 90
        mails = []
        while time.time() < deadline:
            res = outside.run("cat", kept)
            mails = [json.loads(line) for line in res.stdout.splitlines() if token in line]
            if mails:
                break
            time.sleep(1)
        with web.sudo():
            queue = web.run("postqueue -p; tail -n 20 /var/log/mail.log 2>/dev/null || journalctl -u postfix@- -n 20")
        assert mails, f"the mail did not reach the smarthost:\n{queue.stdout}"
        assert mails[0]["login"] == USER and mails[0]["tls"], mails[0]
        assert mails[0]["to"] == ["someone@example.net"], mails[0]
    finally:
        outside.run("pkill", "-f", "smarthost.py")
        rc, out = playbook("site.yml", "--tags", "postfix", limit=WEB)
    assert rc == 0, out[-3000:]
    with web.sudo():
        assert web.run("postconf -h relayhost").stdout.strip() == ""
        assert not web.file("/etc/postfix/sasl_passwd").exists
