"""Steady outside load for the tests (both scenarios), run inside the internet container:

  python3 - CAFILE URL CLIENTS MAX_SECONDS STOPFILE [PACE [CONNECTIONS]]

CLIENTS threads each send GET URL in a loop over a kept-alive HTTPS
connection (trusting only CAFILE) until STOPFILE exists or MAX_SECONDS have
passed. With PACE > 0 each client starts a request at most every PACE
seconds, the clients' starts spread evenly over that period: the load stays
concurrent and continuous (a new request every PACE/CLIENTS seconds) without
taking every CPU cycle from what it watches. PACE 0 is a closed loop.
Every answer is recorded as [start, end, status, release, host, client,
retried]: start and end time (epoch seconds), the HTTP status (or "ERR ..."),
the "release" and "host" fields of a JSON body (the app's /healthz), the
client's index, and whether it was retried. Like every HTTP client, a request
that finds its reused connection closed before any answer byte is retried
once on a new connection (RFC 9112, 9.3.1); such retries are counted and
flagged (a test that needs proof a request survived a moment uses only
requests that were not retried), and a second failure is a failed request.
With CONNECTIONS "new" (default "reuse") every request opens its own
connection and asks nginx to close it: no idle connection can be closed under
a client, so nothing is ever retried and every lost request is a failure.
Prints one JSON object: totals, failures, and every request.
"""
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

cafile, url, clients, max_seconds, stopfile = sys.argv[1:6]
clients, max_seconds = int(clients), float(max_seconds)
pace = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
new_connections = (sys.argv[7] if len(sys.argv) > 7 else "reuse") == "new"
parts = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=cafile)
records, lock = [], threading.Lock()
retries = [0]
started = time.time()


def done():
    return os.path.exists(stopfile) or time.time() - started > max_seconds


def connect():
    return http.client.HTTPSConnection(parts.hostname, parts.port or 443, context=ctx, timeout=30)


def one(conn):
    headers = {"Host": parts.netloc}
    if new_connections:
        headers["Connection"] = "close"
    conn.request("GET", parts.path or "/", headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    info = {}
    if resp.getheader("Content-Type", "").startswith("application/json"):
        try:
            info = json.loads(body)
        except ValueError:
            pass
    if new_connections or resp.getheader("Connection", "").lower() == "close":
        conn.close()
    return resp.status, info


def worker(index):
    conn, reused = connect(), False
    next_start = started + pace * index / clients
    while not done():
        if pace:
            time.sleep(max(0.0, next_start - time.time()))
            next_start = max(next_start + pace, time.time())  # late: no burst to catch up
        t0, retried = time.time(), False
        try:
            try:
                if new_connections:
                    conn = connect()
                status, info = one(conn)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused or new_connections:
                    raise
                with lock:
                    retries[0] += 1
                retried = True
                conn.close()
                conn = connect()
                status, info = one(conn)
            reused = True
            rec = [t0, time.time(), status, info.get("release", ""), info.get("host", ""), index, retried]
        except Exception as exc:  # every failure is recorded, none ends the run
            rec = [t0, time.time(), "ERR " + type(exc).__name__ + ": " + str(exc)[:120], "", "", index, retried]
            conn.close()
            conn, reused = connect(), False
            time.sleep(0.05)
        with lock:
            records.append(rec)


threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
failed = [r for r in records if r[2] != 200]
print(json.dumps({"started": started, "ended": time.time(), "clients": clients, "pace": pace,
                  "connections": "new" if new_connections else "reuse",
                  "requests": len(records), "failed": len(failed), "failures": failed[:50],
                  "retries": retries[0], "records": sorted(records)}))
