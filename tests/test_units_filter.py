"""filter_plugins/units.py: the preflight's one read of systemd's units says
which are active and enabled; a role's start task is skipped only for those,
and runs for anything else (unknown, stopped, disabled, static, an instance of
a template, no preflight at all)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "filter_plugins"))

from units import FILES_MARKER, UNITS_MARKER, systemd_running_enabled, units_to_start  # noqa: E402

# As systemctl prints them on a Debian 12 host (--plain --no-legend; a failed unit keeps its dot).
READ = f"""{UNITS_MARKER}
cron.service                      loaded    active   running Regular background program processing daemon
fail2ban.service                  loaded    active   running Fail2Ban Service
nginx.service                     loaded    inactive dead    A high performance web server
\u25cf postfix@-.service              loaded    failed   failed  Postfix Mail Transport Agent (instance -)
postgresql@15-main.service        loaded    active   running PostgreSQL Cluster 15-main
systemd-tmpfiles-setup.service    loaded    active   exited  Create Volatile Files and Directories
apt-daily.timer                   loaded    active   waiting Daily apt download activities
pgbackrest-full.timer             loaded    active   waiting pgBackRest full backup timer
ssh.service                       not-found inactive dead    ssh.service
{FILES_MARKER}
apt-daily.timer                            enabled         enabled
cron.service                               enabled         enabled
fail2ban.service                           enabled         enabled
nginx.service                              enabled         enabled
postfix@.service                           indirect        enabled
postgresql@.service                        indirect        enabled
systemd-tmpfiles-setup.service             static          -
pgbackrest-full.timer                      disabled        enabled
"""


def test_only_active_and_enabled_units_count_as_running():
    assert systemd_running_enabled(READ) == ["apt-daily.timer", "cron.service", "fail2ban.service"]


def test_start_tasks_run_for_anything_not_known_running():
    running = systemd_running_enabled(READ)
    assert units_to_start(["fail2ban", "apt-daily.timer"], running) == []
    # stopped, failed (an instance), not listed, static, disabled:
    assert units_to_start("nginx", running) == ["nginx"]
    assert units_to_start(["postfix", "postgresql@15-main"], running) == ["postfix", "postgresql@15-main"]
    assert units_to_start(["supervisor"], running) == ["supervisor"]
    assert units_to_start(["systemd-tmpfiles-setup", "pgbackrest-full.timer"], running) == \
        ["systemd-tmpfiles-setup", "pgbackrest-full.timer"]


def test_without_the_preflight_every_unit_is_started():
    assert units_to_start(["fail2ban", "nginx"], None) == ["fail2ban", "nginx"]
    assert systemd_running_enabled("no listing here") == []
