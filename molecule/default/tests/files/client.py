"""A small browser for the end-to-end tests, run inside the internet container:
python3 - CAFILE COMMAND ARGS...  (prints one JSON line)

  get URL                         -> status, final url, body excerpt, headers
  register BASE EMAIL USER PASS   -> status and flashed messages after the POST
  login-get BASE EMAIL PASS URL   -> log in, then GET URL (e.g. a confirmation link)
  login-cookies BASE EMAIL PASS   -> log in with "remember me"; the cookies set, with their attributes
"""
import http.cookiejar
import json
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

cafile, command, *args = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(jar))


def fetch(url, data=None):
    """GET, or POST a form (from its own page, as a browser does: with a Referer)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    headers = {"Referer": url} if data is not None else {}
    try:
        with opener.open(urllib.request.Request(url, data=body, headers=headers), timeout=30) as r:
            return r.status, r.geturl(), r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, url, e.read().decode(errors="replace"), dict(e.headers)


def csrf(html):
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return m.group(1) if m else ""


def flashes(html):
    return [re.sub(r"<[^>]+>", "", f).strip()
            for f in re.findall(r'class="[^"]*flash[^"]*"[^>]*>(.*?)</', html, re.S)]


def login(base, email, password, remember=False):
    _, _, html, _ = fetch(base + "/auth/login")
    form = {"csrf_token": csrf(html), "email": email, "password": password, "submit": "Log In"}
    if remember:
        form["remember_me"] = "y"
    return fetch(base + "/auth/login", form)


def cookie_attributes(cookie):
    """What the server said about a cookie (cookiejar keeps unknown attributes in _rest)."""
    rest = {k.lower(): v for k, v in cookie._rest.items()}
    return {"name": cookie.name, "secure": cookie.secure, "httponly": "httponly" in rest,
            "samesite": rest.get("samesite")}


out = {}
if command == "get":
    status, url, html, headers = fetch(args[0])
    out = {"status": status, "url": url, "body": html[:4000], "headers": headers}
elif command == "register":
    base, email, user, password = args
    _, _, html, _ = fetch(base + "/auth/register")
    status, url, html, _ = fetch(base + "/auth/register", {
        "csrf_token": csrf(html), "email": email, "username": user,
        "password": password, "password2": password, "submit": "Register"})
    out = {"status": status, "url": url, "flashes": flashes(html), "body": html[:4000]}
elif command == "login-get":
    base, email, password, target = args
    status, url, html, _ = login(base, email, password)
    out["login"] = {"status": status, "url": url, "flashes": flashes(html)}
    status, url, html, _ = fetch(target)
    out.update({"status": status, "url": url, "flashes": flashes(html), "body": html[:4000]})
elif command == "login-cookies":
    base, email, password = args
    status, url, html, _ = login(base, email, password, remember=True)
    out = {"status": status, "url": url, "flashes": flashes(html),
           "cookies": [cookie_attributes(c) for c in jar]}
else:
    sys.exit(f"unknown command {command}")
print(json.dumps(out))
