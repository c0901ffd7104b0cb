"""Load with writes, run inside the internet container for test_e2e_faults.py:
python3 - CAFILE BASE SECONDS TAG READERS WRITERS  (prints one JSON line)

READERS threads GET the home page (it reads the database) and WRITERS threads
register new users (two a second each), each in a loop, for SECONDS. Every request is recorded as
[start, end, kind, status, email] (status 0: no HTTP answer at all). A
registration is acknowledged when its POST is answered with the app's
redirect to the login page: only then may the user rely on the account.
"""
import json
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

cafile, base, seconds, tag, readers, writers = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
end = time.time() + float(seconds)
records = []
lock = threading.Lock()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener():
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), NoRedirect(),
                                       urllib.request.HTTPCookieProcessor())


def fetch(op, kind, url, data=None, email=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    start = time.time()
    status, html, location = 0, "", ""
    try:
        with op.open(urllib.request.Request(url, data=body, headers={"Referer": url}), timeout=15) as r:
            status, html = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, location = e.code, e.headers.get("Location", "")
        html = e.read().decode(errors="replace")
    except Exception:  # no HTTP answer: connection refused, reset, timeout
        pass
    with lock:
        records.append([start, time.time(), kind, status, email, location])
    return status, html, location


def reader():
    op = opener()
    while time.time() < end:
        fetch(op, "page", base + "/")
        time.sleep(0.05)


def writer(n):
    i = 0
    while time.time() < end:
        i += 1
        op = opener()
        status, html, _ = fetch(op, "form", base + "/auth/register")
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        if status != 200 or not m:
            time.sleep(0.2)
            continue
        email = f"debian+pgload-{tag}-{n}-{i}@{urllib.parse.urlsplit(base).hostname}"
        fetch(op, "register", base + "/auth/register", {
            "csrf_token": m.group(1), "email": email, "username": f"pgload_{tag}_{n}_{i}",
            "password": f"pw-{tag}-Secret!", "password2": f"pw-{tag}-Secret!", "submit": "Register"},
            email=email)
        time.sleep(0.5)


threads = [threading.Thread(target=reader) for _ in range(int(readers))]
threads += [threading.Thread(target=writer, args=(n,)) for n in range(int(writers))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"records": sorted(records)}))
