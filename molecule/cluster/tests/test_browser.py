"""A real browser through the balancer: Debian's headless Chromium, driven by
Selenium in the internet container (files/browser.py), trusting Pebble's
issuing root and nothing made for the test otherwise.

- without Pebble's root the site is refused (Chromium's certificate error
  page): the trust below comes from that root;
- a person registers, opens the link of the confirmation mail (read from the
  web host's mailbox), logs in, writes a post in Markdown, sees it rendered
  (and cleaned) on the home page, logs out;
- no page logs a console error or a Content-Security-Policy violation.
"""

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import outside
from conftest import BASE, DOMAIN, group, host

testinfra_hosts = [group("loadbalancer")[0]]
BROWSER = (Path(__file__).parent / "files" / "browser.py").read_text()


def wait_for_the_browser():
    """scripts/internet-host.sh --browser installs it in the background during the converge."""
    deadline = time.time() + 900
    while outside.run("test", "-e", "/var/lib/browser-ready").returncode != 0:
        failed = outside.run("bash", "-c", "test -e /var/lib/browser-failed && tail -n 30 /var/log/browser-install.log")
        assert failed.returncode != 0, f"the browser did not install:\n{failed.stdout}"
        assert time.time() < deadline, "the browser was not installed after 15 minutes"
        time.sleep(5)


def browser(step, *args):
    wait_for_the_browser()
    res = subprocess.run(["docker", "exec", "-i", outside.INTERNET, "python3", "-", outside.ROOT_CA, BASE, step,
                          *args], input=BROWSER, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"browser step {step} failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    assert not seen["console"], f"console errors in step {step}: {seen['console']}"
    return seen


def confirmation_link(email):
    """The link in the confirmation mail, from the mailbox of whichever web host sent it."""
    for name in group("web"):
        found = outside.mails(host(name), "debian", timeout=5, match=lambda m: email in (m["To"] or ""))
        ours = [m for m in found if email in (m["To"] or "")]
        if ours:
            link = re.search(rf"https://{re.escape(DOMAIN)}\S*/auth/confirm/\S+", outside.body(ours[-1]))
            assert link, outside.body(ours[-1])
            return link.group(0)
    raise AssertionError(f"no confirmation mail for {email} on {group('web')}")


def test_the_site_is_refused_without_pebbles_root():
    seen = browser("untrusted")
    assert seen["pages"][0]["error_page"], seen


def test_register_confirm_post_markdown_and_log_out_in_a_real_browser():
    tag = uuid.uuid4().hex[:10]
    email, password = f"debian+{tag}@{DOMAIN}", f"pw-{tag}-Secret!"
    seen = browser("register", email, f"br_{tag}", password)
    assert not any(p["error_page"] for p in seen["pages"]), seen["pages"]
    assert any("confirmation" in f.lower() for f in seen["flashes"]), seen

    markdown = f"Hello **{tag}**, from a *browser*\n\n- one\n- two\n\n<script>alert(1)</script>"
    seen = browser("confirm-post-logout", email, password, confirmation_link(email), markdown)
    assert not any(p["error_page"] for p in seen["pages"]), seen["pages"]
    flashes = " ".join(seen["flashes"]).lower()
    assert "confirmed your account" in flashes, seen["flashes"]
    assert "your post has been published" in flashes, seen["flashes"]
    newest = seen["post_html"][0]
    assert f"<strong>{tag}</strong>" in newest and "<em>browser</em>" in newest and "<li>one</li>" in newest, newest
    assert "<script>" not in newest, newest
    assert seen["logged_out"], seen
