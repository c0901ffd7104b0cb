"""Start a supervisor program and wait until it runs and answers its health
check; or stop the old one once the requests sent to it have reached it.

Run by the deploy (switch.yml) on the host, as root:
    python3 - start SUPERVISOR_SOCKET PROGRAM SOCKET HOST PATH STATUSES TIMEOUT ERROR_LOG
    python3 - stop SUPERVISOR_SOCKET PROGRAM SOCKET NGINX_PIDS DRAIN_SECONDS STOP_SECONDS
start: PATH "" = no health check (only RUNNING counts); STATUSES is "200,204".
stop: NGINX_PIDS ("" or "12,34") are nginx's workers of before a reload.
Prints one JSON object; exits 0 when healthy (start) or stopped (stop), 1 when not.

Why not supervisorctl start plus HTTP retries: those only notice a program
that cannot start once every retry has run out (a minute or more), and a
gunicorn that halts after startsecs is RUNNING again at once. Here
supervisord is asked directly (XML-RPC on its socket: pid and spawn time even
while STARTING) along with the health check, so a program that exits, backs
off, goes FATAL, is spawned again or halts ("Reason: App failed to load")
fails the deploy at once, and the line of its error log that says why
(gunicorn's "Failed to find attribute ...", an exception's last line) is in
the answer.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client

ACTION, SUPERVISOR_SOCKET, PROGRAM, SOCKET = sys.argv[1:5]
if ACTION == "start":
    HOST, PATH, STATUSES, TIMEOUT, ERROR_LOG = sys.argv[5:10]
    OK = {int(s) for s in STATUSES.split(",") if s}
else:
    HOST = "localhost"
    NGINX_PIDS = [int(pid) for pid in sys.argv[5].split(",") if pid]
    DRAIN_SECONDS, STOP_SECONDS = float(sys.argv[6]), float(sys.argv[7])
DEAD = {"BACKOFF", "EXITED", "FATAL", "UNKNOWN"}
# gunicorn's own records: "[2026-01-01 12:00:00 +0000] [123] [INFO] ..."
RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:]+ [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")
# Traceback lines, Python's chained-exception separators and gunicorn's own HaltServer.
FRAME = re.compile(r"^(\s|Traceback |\^|gunicorn\.errors\.|During handling of the above exception|"
                   r"The above exception was the direct cause)")
# gunicorn's master gives up: the workers cannot load the app.
HALTED = re.compile(r"\[ERROR\] (Reason: .*|Worker failed to boot.*|Shutting down: Master)$", re.M)
CAUSE_WORDS = re.compile(r"Error|Exception|Failed|failed|error|No module|cannot|denied", re.I)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=2):
        super().__init__(HOST, timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class SupervisorTransport(xmlrpc.client.Transport):
    def make_connection(self, host):
        return UnixHTTPConnection(SUPERVISOR_SOCKET, timeout=10)


SUPERVISOR = xmlrpc.client.ServerProxy("http://localhost", transport=SupervisorTransport()).supervisor


def ctl(*args):
    done = subprocess.run(["supervisorctl", *args], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip()


def health():
    conn = UnixHTTPConnection(SOCKET)
    try:
        conn.request("GET", PATH, headers={"Host": HOST})
        answer = conn.getresponse()
        return answer.status, answer.read(2000).decode("utf-8", "replace")
    finally:
        conn.close()


def log_since(offset):
    try:
        with open(ERROR_LOG, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def settled_log(offset):
    """The log since offset once supervisord has written all of it (a loaded host writes late)."""
    text, deadline = log_since(offset), time.monotonic() + 3
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = log_since(offset)
        if again == text and cause_of(text):
            break
        text = again
    return text


def cause_of(text):
    """The line that says why: an exception's last line or a plain message, else gunicorn's last error."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    plain = [line for line in lines if not RECORD.match(line) and not FRAME.match(line)]
    for candidates in ([line for line in plain if CAUSE_WORDS.search(line)], plain,
                       [line for line in lines if "[ERROR]" in line or "[CRITICAL]" in line]):
        if candidates:
            return candidates[-1][:500]
    return ""


def stop_now():
    """Stop the failed program without waiting for its workers to finish importing the app.

    It never had traffic (nginx points at the other color), so nothing is lost;
    a graceful stop would wait as long as a slow import takes.
    """
    try:
        if SUPERVISOR.getProcessInfo(PROGRAM)["statename"] in ("STARTING", "RUNNING", "BACKOFF"):
            SUPERVISOR.stopProcess(PROGRAM, False)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            info = SUPERVISOR.getProcessInfo(PROGRAM)
            if not info["pid"]:
                return
            time.sleep(0.1)
        os.killpg(info["pid"], signal.SIGKILL)  # supervisor starts each program in its own group
        time.sleep(0.3)  # the last lines of the dying program reach its log
    except (OSError, xmlrpc.client.Error):
        pass


def queued(path):
    """Connections waiting in a listening unix socket's queue (ss -xl: its Recv-Q)."""
    out = subprocess.run(["ss", "-xlnH"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == path:
            return int(fields[2])
    return 0


def stop():
    """Stop the old program gracefully once nothing routes to it any more.

    First the requests already sent to it reach it: nginx's workers of before
    a reload have exited (after a reload), and its socket's queue of
    connections the kernel holds for it is empty (after the live link moved;
    gunicorn stopping would drop those). Then SIGTERM through supervisord
    (gunicorn finishes the requests it has), and supervisord is asked until
    the program has stopped: each question wakes supervisord, which otherwise
    notices an exit only once a second.
    """
    start = time.monotonic()
    result = {"ok": False, "drained_after": None, "stopped_after": None, "state": None, "reason": ""}
    deadline = start + DRAIN_SECONDS
    while True:
        alive = [pid for pid in NGINX_PIDS if os.path.exists(f"/proc/{pid}")]
        waiting = queued(SOCKET)
        if not alive and not waiting:
            break
        if time.monotonic() > deadline:
            result["reason"] = (f"after {DRAIN_SECONDS:.0f} s: nginx workers of before the reload {alive or 'none'}, "
                                f"{waiting} connections queued; stopping anyway")
            break
        time.sleep(0.05)
    result["drained_after"] = round(time.monotonic() - start, 2)
    try:
        SUPERVISOR.stopProcess(PROGRAM, False)
    except xmlrpc.client.Fault as fault:
        if "NOT_RUNNING" not in fault.faultString:
            result["reason"] = f"supervisor could not stop {PROGRAM}: {fault.faultString}"
            return result
    deadline = time.monotonic() + STOP_SECONDS
    while True:
        state = result["state"] = SUPERVISOR.getProcessInfo(PROGRAM)["statename"]
        if state in ("STOPPED", "EXITED", "FATAL"):
            result["ok"] = True
            break
        if time.monotonic() > deadline:
            result["reason"] = f"{PROGRAM} still {state} {STOP_SECONDS:.0f} s after SIGTERM"
            break
        time.sleep(0.05)
    result["stopped_after"] = round(time.monotonic() - start, 2)
    if result["ok"]:
        # What `supervisorctl update PROGRAM` does for a changed program (its autostart).
        added, changed, removed = SUPERVISOR.reloadConfig()[0]
        if PROGRAM in changed:
            SUPERVISOR.removeProcessGroup(PROGRAM)
            SUPERVISOR.addProcessGroup(PROGRAM)
            result["updated"] = True
    return result


def main():
    start = time.monotonic()
    try:
        offset = os.path.getsize(ERROR_LOG)
    except OSError:
        offset = 0
    result = {"ok": False, "state": None, "health_status": None, "health_body": "", "reason": "", "cause": "", "log": []}
    update = ctl("update", PROGRAM)
    if "ERROR" in update:
        result["reason"] = f"supervisorctl update {PROGRAM}: {update}"
        return result
    # update starts a program it (re)loads; start covers an unchanged, stopped one.
    try:
        SUPERVISOR.startProcess(PROGRAM, False)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString:
            result["reason"] = f"supervisor could not start {PROGRAM}: {fault.faultString}"
            return result
    deadline = start + float(TIMEOUT)
    first_spawn = None
    while True:
        info = SUPERVISOR.getProcessInfo(PROGRAM)
        state = result["state"] = info["statename"]
        spawn = (info["pid"], info["start"]) if info["pid"] else None
        if state in DEAD:
            result["reason"] = (f"the program went {state} (exit status {info['exitstatus']}) "
                                f"{time.monotonic() - start:.1f} s after its start")
            break
        if state == "STOPPED" and time.monotonic() - start > 5:
            result["reason"] = "the program did not start (STOPPED)"
            break
        if spawn and first_spawn and spawn != first_spawn:
            result["reason"] = (f"the program exited (exit status {info['exitstatus']}) and was started again "
                                f"{time.monotonic() - start:.1f} s after its start")
            break
        first_spawn = first_spawn or spawn
        halted = HALTED.search(log_since(offset))
        if halted:
            result["reason"] = f"gunicorn gave up {time.monotonic() - start:.1f} s after its start: {halted.group(1)}"
            break
        if state in ("STARTING", "RUNNING"):
            healthy = not PATH
            if PATH:
                try:
                    result["health_status"], result["health_body"] = health()
                    healthy = result["health_status"] in OK
                except OSError as exc:  # not listening yet, or no worker answered
                    result["health_body"] = f"{type(exc).__name__}: {exc}"
            if healthy and state == "RUNNING":
                result["ok"] = True
                break
        if time.monotonic() > deadline:
            result["reason"] = (f"no healthy answer within {TIMEOUT} s (state {state}, health "
                                f"{result['health_status'] or 'none'})")
            break
        time.sleep(0.2)
    result["seconds"] = round(time.monotonic() - start, 1)
    if not result["ok"]:
        stop_now()
        text = settled_log(offset)
        result["cause"] = cause_of(text)
        result["log"] = text.splitlines()[-15:]
    return result


if __name__ == "__main__":
    try:
        RESULT = main() if ACTION == "start" else stop()
    except Exception as exc:  # always answer in JSON: the deploy's message is built from it
        RESULT = {"ok": False, "reason": f"supervise_program.py {ACTION}: {type(exc).__name__}: {exc}", "cause": "",
                  "log": []}
    print(json.dumps(RESULT))
    sys.exit(0 if RESULT["ok"] else 1)
