"""A real browser for the tests: Debian's headless Chromium driven through
chromedriver (Selenium), run in the internet container. It trusts the
system's roots plus Pebble's issuing root only (an NSS database made for the
run); a certificate error stops it. Every page it opens has its console read:
any error, CSP violation included, is reported.

    python3 - BASE STEP ARGS... < browser.py

Steps (each in a new browser profile):
    untrusted                  (the home page without Pebble's root: an error page)
    register EMAIL USERNAME PASSWORD
    confirm-post-logout EMAIL PASSWORD CONFIRM_LINK POST_MARKDOWN
It prints one JSON line: what it saw (flashes, pages, console errors).
"""

import json
import os
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT_CA, BASE, STEP, *ARGS = sys.argv[1:]
home = tempfile.mkdtemp(prefix="browser-")
os.environ["HOME"] = home
nssdb = os.path.join(home, ".pki", "nssdb")
os.makedirs(nssdb)
subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
if STEP != "untrusted":  # (the step that shows a site is refused without that root)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", "pebble-root", "-i", ROOT_CA],
                   check=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            f"--user-data-dir={home}/profile"):
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
seen = {"pages": [], "console": [], "flashes": []}


def visit(url=None):
    if url:
        driver.get(url)
    page = {"url": driver.current_url, "title": driver.title}
    # A page that did not load over trusted HTTPS shows Chromium's error page.
    page["error_page"] = "chrome-error://" in driver.current_url or "Privacy error" in driver.title
    seen["pages"].append(page)
    seen["flashes"] += [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".flash, .flashes li, .alert")]
    seen["console"] += [f"{e['level']}: {e['message']}" for e in driver.get_log("browser")
                        if e["level"] in ("SEVERE", "WARNING")]
    return page


def fill(fields, submit="submit"):
    for name, value in fields.items():
        box = driver.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.NAME, submit).click()
    return visit()


try:
    if STEP == "untrusted":
        visit(f"{BASE}/")
    elif STEP == "register":
        email, username, password = ARGS
        visit(f"{BASE}/auth/register")
        fill({"email": email, "username": username, "password": password, "password2": password})
    elif STEP == "confirm-post-logout":
        email, password, link, markdown = ARGS
        visit(link)  # the confirmation needs a login first: the site asks for it
        fill({"email": email, "password": password})
        visit(f"{BASE}/")
        fill({"body": markdown})
        seen["post_html"] = [e.get_attribute("innerHTML") for e in
                             driver.find_elements(By.CSS_SELECTOR, ".post-body")][:3]
        driver.find_element(By.LINK_TEXT, "Log Out").click()
        visit()
        seen["logged_out"] = bool(driver.find_elements(By.LINK_TEXT, "Log In"))
    else:
        sys.exit(f"unknown step {STEP}")
finally:
    driver.quit()
print(json.dumps(seen))
