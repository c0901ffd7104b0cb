#!/usr/bin/env python3
"""`make bench`: the operator-facing figures of this project, measured.

Makes its own throwaway hosts (scripts/testhost.sh, the same systemd
containers as `make demo`), measures every figure BENCH_RUNS times
(median, min, max), prints each beside its goal and writes the samples as
JSON under bench/results/. The hosts are removed at the end, whatever
happens (BENCH_KEEP=1 keeps them).

    bench/bench.py                          every figure, 3 runs
    BENCH_RUNS=1 BENCH_FIGURES=cold,noop_deploy,code_deploy,bad_wsgi bench/bench.py

Figures: cold floor noop_site noop_deploy task_overhead rps static
code_deploy code_deploy_load bad_wsgi, and noop_site_stock noop_deploy_stock
task_overhead_stock (the same with Mitogen off). `cold` is always run once (the other
figures need a converged host); `floor` needs `cold`.

A benchmark, never a test: nothing here fails because a figure is slow.
It exits non-zero only when a run breaks a guarantee it observes (a second
run that changes something, a failed request under load, a deploy that
fails when it should not).
"""

import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the .venv that runs this script holds ansible
ALL = ["cold", "floor", "noop_site", "noop_deploy", "task_overhead", "rps", "static",
       "code_deploy", "code_deploy_load", "bad_wsgi", "noop_site_stock", "noop_deploy_stock", "task_overhead_stock"]
# The *_stock figures: the same runs on Ansible's stock strategy (Mitogen off), for comparison.
STOCK = {"ANSIBLE_STRATEGY": "linear"}
# One SSH connection per bench host, reused by every run and by the bench's own ssh calls:
# Mitogen opens a new one per run, and ufw drops the 6th new connection within 30 s from one address.
SSH_MUX_PATH = "/tmp/flasky-bench-ssh-%C"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FIGURES = [f for f in os.environ.get("BENCH_FIGURES", ",".join(ALL)).split(",") if f]
SUITE = os.environ.get("BENCH_SUITE", "bookworm")
PREFIX = os.environ.get("BENCH_PREFIX", "flasky-bench")
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))
DOMAIN = "flasky.localhost"
IMAGE = f"flasky-base:{SUITE}"
# One package cache for every bench host: they never run apt at the same
# time, and a shared cache makes every run (the floor too) equally warm.
APT_CACHE = f"/var/cache/flasky-test/apt/{PREFIX}"
PROFILES = []  # every playbook run: its time and slowest tasks (written to the JSON)
VAULT = ["--vault-id", f"local@{ROOT}/inventories/local/vault-pass.test-only.sh"]

# figure -> (what it is, goal as text, unit)
TITLES = {
    "cold": ("cold site.yml on a bare host", "<= 1.5x floor", "s"),
    "floor": ("floor: same packages + pip install + db/user, one shell command", "-", "s"),
    "noop_site": ("no-op site.yml (changed=0)", "<= 12 s", "s"),
    "noop_deploy": ("no-op playbooks/deploy.yml (changed=0)", "<= 5 s", "s"),
    "code_deploy": ("code-only change deployed, idle host", "<= 15 s", "s"),
    "code_deploy_load": ("code-only change deployed under 64 HTTPS clients", "<= 30 s, 0 failed", "s"),
    "bad_wsgi": ("release that cannot start (bad WSGI name) reported", "<= 15 s, cause in message", "s"),
    "task_overhead": ("overhead of one no-op task over SSH (50 file tasks)", "<= 0.05 s", "s"),
    "rps_64": ("req/s nginx+gunicorn / Flask dev server, page, 64 clients", ">= 2.2x, 0 errors", "x"),
    "rps_256": ("req/s nginx+gunicorn / Flask dev server, page, 256 clients", ">= 2.2x, 0 errors", "x"),
    "static": ("req/s static file nginx / Flask, 64 clients", ">= 20x", "x"),
    "noop_site_stock": ("no-op site.yml, stock strategy (Mitogen off)", "- (comparison)", "s"),
    "noop_deploy_stock": ("no-op deploy.yml, stock strategy (Mitogen off)", "- (comparison)", "s"),
    "task_overhead_stock": ("overhead of one no-op task, stock strategy (Mitogen off)", "- (comparison)", "s"),
}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, check=True, **kw):
    out = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if check and out.returncode != 0:
        raise RuntimeError(f"{cmd[:6]} failed (rc {out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def docker_exec(name, script, check=True):
    return run(["docker", "exec", name, "sh", "-c", script], check=check)


class Host:
    """One throwaway host and an inventory (temp dir) naming it in every group."""

    def __init__(self, name, tmp):
        self.name = name
        self.inv = Path(tmp) / f"inv-{name}"

    def up(self):
        env = dict(os.environ, TESTHOST_APT_CACHE=APT_CACHE)
        port = run([str(ROOT / "scripts/testhost.sh"), "up", self.name, IMAGE], env=env).stdout.strip()
        (ROOT / ".cache/facts" / self.name).unlink(missing_ok=True)
        (self.inv / "host_vars").mkdir(parents=True, exist_ok=True)
        (self.inv / "group_vars").unlink(missing_ok=True)
        (self.inv / "group_vars").symlink_to(ROOT / "inventories/local/group_vars")
        groups = {g: {"hosts": {self.name: None}} for g in ("web", "database", "mail")}
        (self.inv / "hosts.yml").write_text(json.dumps({"all": {"children": {"local": {"children": groups}}}}))
        (self.inv / "host_vars" / f"{self.name}.yml").write_text(json.dumps({
            "ansible_host": "127.0.0.1", "ansible_port": int(port), "ansible_user": "debian",
            "ansible_ssh_private_key_file": str(ROOT / ".cache/ssh/id_ed25519"),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                       f"-o ControlPath={SSH_MUX_PATH}",
        }))
        self.port = int(port)
        return self

    def down(self):
        run([str(ROOT / "scripts/testhost.sh"), "down", self.name], check=False)
        (ROOT / ".cache/facts" / self.name).unlink(missing_ok=True)

    def ssh(self, script, check=True):
        return run(["ssh", "-q", "-i", str(ROOT / ".cache/ssh/id_ed25519"), "-p", str(self.port),
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ControlMaster=auto", "-o", "ControlPersist=120s", "-o",
                    f"ControlPath={SSH_MUX_PATH}", "debian@127.0.0.1", script], check=check)

    def playbook(self, playbook, *args, env_extra=None):
        """Run a playbook against this host: (seconds, rc, recap counts, output)."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(env_extra or {})
        env["PATH"] = f"{BIN}:{env['PATH']}"
        env["ANSIBLE_FORCE_COLOR"] = "0"
        start = time.monotonic()
        out = subprocess.run([str(BIN / "ansible-playbook"), str(playbook), "-i", str(self.inv), *VAULT, *args],
                             cwd=ROOT, env=env, text=True, capture_output=True)
        secs = time.monotonic() - start
        text = out.stdout + out.stderr
        recap = {}
        m = re.search(rf"^{re.escape(self.name)}\s*:\s*(.*)$", text, re.M)
        if m:
            recap = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}
        PROFILES.append({"playbook": str(playbook), "args": list(args), "env": env_extra or {}, "seconds": round(secs, 1),
                         "slowest_tasks": slowest_tasks(text)})
        return secs, out.returncode, recap, text


def slowest_tasks(text, count=8):
    """The slowest tasks of a run, from the profile_tasks callback's recap (ansible.cfg enables it)."""
    recap = text.split("TASKS RECAP", 1)[-1] if "TASKS RECAP" in text else ""
    found = re.findall(r"^(\S.*?) -+ ([\d.]+)s$", recap, re.M)
    return [[name.strip(), float(secs)] for name, secs in found[:count]]


def summary(samples):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "samples": samples}


def app_copy(tmp, marker, src=ROOT / "app"):
    """A copy of app/ whose index page differs: a code-only change."""
    dest = Path(tmp) / f"app-{marker}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.pyc", ".pytest_cache", "instance"))
    index = dest / "flasky" / "templates" / "main" / "index.html"
    index.write_text(index.read_text() + f"\n{{# bench change {marker} #}}\n")
    return dest


def wrk(host, url, clients, seconds, extra=""):
    """wrk inside the host (the same CPUs for every server measured): req/s and failures."""
    threads = min(clients, 2)
    out = docker_exec(host.name, f"wrk -t{threads} -c{clients} -d{seconds}s --timeout 10s {extra} {url}").stdout
    return parse_wrk(out)


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    kinds = dict(zip(("connect", "read", "write", "timeout"), (int(x) for x in sock.groups()))) if sock else {}
    return {"rps": rps, "requests": total, "non2xx": non2xx, "socket_errors": sum(kinds.values()),
            "socket_error_kinds": kinds, "raw": out}


def main():
    unknown = set(FIGURES) - set(ALL)
    if unknown:
        sys.exit(f"unknown figures {sorted(unknown)}; known: {ALL}")
    for img in (IMAGE,):
        if run(["docker", "image", "inspect", img], check=False).returncode != 0:
            sys.exit(f"image {img} missing: run `make setup` first")
    results = {f: [] for f in TITLES}
    extra = {"notes": [], "guarantees_broken": []}
    tmp = tempfile.mkdtemp(prefix="flasky-bench-")
    main_host = Host(f"{PREFIX}-main", tmp)
    floor_host = Host(f"{PREFIX}-floor", tmp)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": RUNS, "figures": FIGURES, "suite": SUITE, "cpus": os.cpu_count(),
        "machine": f"{platform.node()} {platform.machine()} {platform.release()}",
        "loadavg_start": os.getloadavg(),
        "other_containers": run(["docker", "ps", "--format", "{{.Names}}"], check=False).stdout.split(),
        "commit": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=False).stdout.strip(),
        "dirty": bool(run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "roles", "playbooks", "site.yml",
                           "ansible.cfg", "group_vars"], check=False).stdout.strip()),
        "apt_cache_debs_at_start": len(list(Path(APT_CACHE).glob("*.deb"))) if Path(APT_CACHE).is_dir() else 0,
    }

    def guarantee(ok, what):
        if not ok:
            extra["guarantees_broken"].append(what)
            log(f"GUARANTEE BROKEN: {what}")

    try:  # noqa: C901 (one sequence of measurements on one host)
        # --- cold converge, and the floor on a twin host -----------------------------------
        cold_runs = RUNS if "cold" in FIGURES else 1
        for i in range(cold_runs):
            log(f"cold site.yml, run {i + 1}/{cold_runs}: new host {main_host.name}")
            main_host.up()
            secs, rc, recap, text = main_host.playbook("site.yml")
            if rc != 0:
                raise RuntimeError("cold site.yml failed:\n" + text[-4000:])
            log(f"  {secs:.1f} s, {recap}")
            if "cold" in FIGURES:
                results["cold"].append(secs)
            if "floor" in FIGURES:
                results["floor"].append(floor(main_host, floor_host, extra))
                floor_host.down()

        # --- no-op runs --------------------------------------------------------------------
        for fig, pb, env_extra in (("noop_site", "site.yml", None), ("noop_deploy", "playbooks/deploy.yml", None),
                                   ("noop_site_stock", "site.yml", STOCK),
                                   ("noop_deploy_stock", "playbooks/deploy.yml", STOCK)):
            if fig not in FIGURES:
                continue
            for i in range(RUNS):
                secs, rc, recap, text = main_host.playbook(pb, env_extra=env_extra)
                log(f"{fig} run {i + 1}: {secs:.1f} s, {recap}")
                guarantee(rc == 0 and recap.get("changed") == 0, f"{pb} rerun: rc {rc}, {recap}")
                results[fig].append(secs)
                extra.setdefault(f"{fig}_tasks", recap.get("ok", 0) + recap.get("skipped", 0))

        if "task_overhead" in FIGURES:
            results["task_overhead"] = task_overhead(main_host, tmp)
        if "task_overhead_stock" in FIGURES:
            results["task_overhead_stock"] = task_overhead(main_host, tmp, STOCK)

        # --- serving -----------------------------------------------------------------------
        if {"rps", "static", "code_deploy_load"} & set(FIGURES):
            docker_exec(main_host.name, "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null"
                        f" && echo '127.0.0.1 {DOMAIN}' >> /etc/hosts")
        if {"rps", "static"} & set(FIGURES):
            serving(main_host, results, extra)

        # --- deploys -----------------------------------------------------------------------
        if "code_deploy" in FIGURES:
            for i in range(RUNS):
                src = app_copy(tmp, f"idle-{i}-{time.time_ns()}")
                secs, rc, recap, text = main_host.playbook("playbooks/deploy.yml", "-e", f"flasky_app_src_dir={src}")
                log(f"code_deploy run {i + 1}: {secs:.1f} s, {recap}")
                guarantee(rc == 0 and recap.get("changed", 0) > 0, f"code-only deploy failed: {text[-2000:]}")
                results["code_deploy"].append(secs)
        if "code_deploy_load" in FIGURES:
            extra["code_deploy_load"] = []
            for i in range(RUNS):
                src = app_copy(tmp, f"load-{i}-{time.time_ns()}")
                docker_exec(main_host.name, "rm -f /tmp/wrk.pid /tmp/wrk.out")
                load = subprocess.Popen(["docker", "exec", main_host.name, "sh", "-c",
                                         f"echo $$ > /tmp/wrk.pid; exec wrk -t2 -c64 -d900s --timeout 10s https://{DOMAIN}/"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                time.sleep(3)  # the load is on before the deploy starts
                secs, rc, recap, text = main_host.playbook("playbooks/deploy.yml", "-e", f"flasky_app_src_dir={src}")
                time.sleep(2)  # and stays on until the old program is long gone
                docker_exec(main_host.name, "kill -INT $(cat /tmp/wrk.pid)")
                w = parse_wrk(load.communicate(timeout=60)[0])
                failed = w["non2xx"] + w["socket_errors"]
                log(f"code_deploy_load run {i + 1}: {secs:.1f} s, {recap}, {w['requests']} requests, "
                    f"{w['non2xx']} non-2xx, {w['socket_errors']} socket errors {w['socket_error_kinds']}")
                guarantee(rc == 0 and recap.get("changed", 0) > 0, f"deploy under load failed: {text[-2000:]}")
                guarantee(failed == 0, f"{failed} failed requests during a deploy")
                results["code_deploy_load"].append(secs)
                extra["code_deploy_load"].append({k: v for k, v in w.items() if k != "raw"})
        if "bad_wsgi" in FIGURES:
            extra["bad_wsgi_cause_in_message"] = []
            for i in range(RUNS):
                secs, rc, recap, text = main_host.playbook("playbooks/deploy.yml", "-e", "flasky_app_wsgi_module=wsgi:no_such_app")
                cause = "Failed to find attribute" in text
                log(f"bad_wsgi run {i + 1}: reported after {secs:.1f} s (rc {rc}), cause line in message: {cause}")
                guarantee(rc != 0, "a release that cannot start was deployed")
                results["bad_wsgi"].append(secs)
                extra["bad_wsgi_cause_in_message"].append(cause)
                extra.setdefault("bad_wsgi_messages", []).append(text[text.rfind("fatal:"):][:3000])
            # The live release still answers.
            code = docker_exec(main_host.name, f"curl -sk -o /dev/null -w '%{{http_code}}' --resolve {DOMAIN}:443:127.0.0.1 "
                               f"https://{DOMAIN}/", check=False).stdout
            guarantee(code == "200", f"the site answers {code} after a failed deploy")
    except Exception as exc:  # report what was measured, then fail
        extra["error"] = f"{type(exc).__name__}: {exc}"
        log(f"ERROR: {extra['error']}")
    finally:
        if not os.environ.get("BENCH_KEEP"):
            main_host.down()
            floor_host.down()
        shutil.rmtree(tmp, ignore_errors=True)

    meta["loadavg_end"] = os.getloadavg()
    report(results, extra, meta)
    return 1 if extra["guarantees_broken"] or extra.get("error") else 0


def floor(main_host, floor_host, extra):
    """The same packages, the app's pip install, the database and its user: one shell command."""
    floor_host.up()
    image_manual = set(floor_host.ssh("apt-mark showmanual").stdout.split())
    packages = sorted(set(main_host.ssh("apt-mark showmanual").stdout.split()) - image_manual)
    extra["floor_packages"] = packages
    run(["docker", "cp", str(ROOT / "app/requirements.txt"), f"{floor_host.name}:/tmp/requirements.txt"])
    script = (
        "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
        f"apt-get install -y -qq --no-install-recommends {' '.join(packages)} >/dev/null; "
        "useradd -r -m -d /srv/flasky -s /usr/sbin/nologin flasky; "
        "runuser -u flasky -- python3 -m venv /srv/flasky/venv; "
        "runuser -u flasky -- /srv/flasky/venv/bin/pip install -q --disable-pip-version-check -r /tmp/requirements.txt gunicorn; "
        "runuser -u postgres -- createuser flasky; runuser -u postgres -- createdb -O flasky flasky"
    )
    start = time.monotonic()
    floor_host.ssh(f"sudo sh -c '{script}'")
    secs = time.monotonic() - start
    log(f"floor ({len(packages)} packages + pip + db): {secs:.1f} s")
    return secs


def task_overhead(host, tmp, env_extra=None):
    """(time of 51 no-op file tasks - time of 1) / 50, the connection already up."""
    samples = []
    for i in range(RUNS):
        times = {}
        for n in (1, 51):
            pb = Path(tmp) / f"noop-{n}.yml"
            tasks = [{"name": f"no-op {k}", "ansible.builtin.file": {"path": "/tmp", "state": "directory"}} for k in range(n)]
            pb.write_text(json.dumps([{"name": "no-op tasks", "hosts": host.name, "gather_facts": False, "tasks": tasks}]))
            secs, rc, recap, text = host.playbook(pb, env_extra=env_extra)
            if rc != 0:
                raise RuntimeError(text[-2000:])
            times[n] = secs
        samples.append((times[51] - times[1]) / 50)
        log(f"task_overhead{' (stock)' if env_extra else ''} run {i + 1}: {samples[-1]:.3f} s per task")
    return samples


def serving(host, results, extra):
    """nginx+gunicorn (HTTPS, as the public sees it) against the Flask dev server (HTTP) on the same host."""
    docker_exec(host.name, "rm -f /tmp/devserver.pid; runuser -u flasky -- sh -c 'cd /srv/flasky/current && echo $$ > /tmp/devserver.pid && "
                           "exec venv/bin/flask run --host 127.0.0.1 --port 5000 --no-reload --no-debugger --with-threads' "
                           ">/tmp/devserver.log 2>&1 &")
    try:
        for _ in range(60):
            if docker_exec(host.name, "curl -sf -o /dev/null http://127.0.0.1:5000/", check=False).returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("the Flask dev server did not answer: " + docker_exec(host.name, "cat /tmp/devserver.log").stdout)
        extra.setdefault("serving", [])
        for i in range(RUNS):
            for clients in (64, 256):
                if "rps" not in FIGURES:
                    break
                prod = wrk(host, f"https://{DOMAIN}/", clients, LOAD_SECONDS)
                dev = wrk(host, "http://127.0.0.1:5000/", clients, LOAD_SECONDS)
                results[f"rps_{clients}"].append(prod["rps"] / dev["rps"])
                extra["serving"].append({"what": "page", "clients": clients, "nginx": prod["rps"], "flask": dev["rps"],
                                         "nginx_failed": prod["non2xx"] + prod["socket_errors"],
                                         "flask_failed": dev["non2xx"] + dev["socket_errors"]})
                log(f"page, {clients} clients: nginx+gunicorn {prod['rps']:.0f}/s "
                    f"({prod['non2xx'] + prod['socket_errors']} failed), flask {dev['rps']:.0f}/s "
                    f"({dev['non2xx'] + dev['socket_errors']} failed)")
            if "static" in FIGURES:
                prod = wrk(host, f"https://{DOMAIN}/static/style.css", 64, LOAD_SECONDS)
                dev = wrk(host, "http://127.0.0.1:5000/static/style.css", 64, LOAD_SECONDS)
                results["static"].append(prod["rps"] / dev["rps"])
                extra["serving"].append({"what": "static", "clients": 64, "nginx": prod["rps"], "flask": dev["rps"]})
                log(f"static, 64 clients: nginx {prod['rps']:.0f}/s, flask {dev['rps']:.0f}/s")
    finally:
        docker_exec(host.name, "kill $(cat /tmp/devserver.pid)", check=False)


def report(results, extra, meta):
    floor_median = statistics.median(results["floor"]) if results["floor"] else None
    rows = []
    for fig, (title, goal, unit) in TITLES.items():
        samples = results[fig]
        if not samples:
            continue
        s = summary(samples)
        fmt = (lambda v: f"{v:.3f}") if fig.startswith("task_overhead") else (lambda v: f"{v:.1f}")
        value = f"{fmt(s['median'])} {unit} ({fmt(s['min'])}-{fmt(s['max'])})" if len(samples) > 1 else f"{fmt(s['median'])} {unit}"
        if fig == "cold" and floor_median:
            goal = f"<= 1.5x floor = {1.5 * floor_median:.0f} s (now {s['median'] / floor_median:.2f}x)"
        if fig == "bad_wsgi" and extra.get("bad_wsgi_cause_in_message"):
            value += ", cause in message" if all(extra["bad_wsgi_cause_in_message"]) else ", NO cause in message"
        if fig == "code_deploy_load" and extra.get("code_deploy_load"):
            value += f", {sum(r['non2xx'] + r['socket_errors'] for r in extra['code_deploy_load'])} failed requests"
        rows.append((title, value, goal))
        results[fig] = s
    w = [max(len(r[i]) for r in rows + [("figure", "median (min-max)", "goal")]) for i in range(3)]
    print()
    print(f"Benchmark {meta['date']} on {meta['machine']}, {meta['cpus']} CPUs, {RUNS} run(s), Debian {SUITE}, "
          f"load average {meta['loadavg_start'][0]:.1f} at start, {meta['loadavg_end'][0]:.1f} at end")
    for r in [("figure", "median (min-max)", "goal")] + rows:
        print(f"| {r[0]:<{w[0]}} | {r[1]:<{w[1]}} | {r[2]:<{w[2]}} |")
    if extra["guarantees_broken"]:
        print("GUARANTEES BROKEN:\n  " + "\n  ".join(extra["guarantees_broken"]))
    out = ROOT / "bench" / "results" / f"{meta['date'].replace(':', '')}-{SUITE}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "figures": {k: v for k, v in results.items() if v}, "extra": extra,
                               "playbook_runs": PROFILES},
                              indent=1) + "\n")
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
