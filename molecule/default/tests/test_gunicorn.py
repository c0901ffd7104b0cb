"""gunicorn: in the release's virtualenv, local unix sockets only, sized workers."""

import re

APP = "flasky"
SOCKET_DIR = f"/run/{APP}"
CONF = f"/etc/{APP}/gunicorn.conf.py"


def _active(host):
    with host.sudo():
        return host.file(f"/srv/{APP}/shared/active_color").content_string.strip()


def _master_pid(host, color):
    with host.sudo():
        return int(host.check_output(f"supervisorctl pid {APP}-{color}"))


def test_config_is_valid_python_and_binds_locally(host):
    conf = host.file(CONF)
    assert conf.exists and conf.user == "root" and conf.mode == 0o644
    assert host.run(f"python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' {CONF}").rc == 0
    assert conf.contains('^bind = \\["unix:/run/flasky/')
    assert conf.contains("^forwarded_allow_ips = \"127.0.0.1,::1\"$")
    assert conf.contains("^max_requests_jitter = [1-9]")


def test_socket_directory_is_private_to_the_app_group(host):
    d = host.file(SOCKET_DIR)
    assert d.is_directory
    assert (d.user, d.group, d.mode) == (APP, APP, 0o750)
    # Re-created at boot (/run is a tmpfs) by systemd-tmpfiles.
    assert host.file(f"/etc/tmpfiles.d/{APP}-gunicorn.conf").contains(
        f"^d {SOCKET_DIR} 0750 {APP} {APP}")
    # nginx gets in as a member of the app's group.
    assert APP in host.user("www-data").groups


def test_active_socket_is_for_the_group_only(host):
    color = _active(host)
    with host.sudo():
        sock = host.file(f"{SOCKET_DIR}/gunicorn-{color}.sock")
        assert sock.is_socket
        assert sock.group == APP
        assert sock.mode & 0o060 == 0o060, "the group (nginx) must be able to connect"
        assert sock.mode & 0o007 == 0, "the socket must not be open to everyone"


# Connects to a unix socket and prints who it ran as and the outcome: the
# errno's name, so a denial is told apart from a socket that is not there.
_CONNECT = ("import errno, getpass, socket, sys; s = socket.socket(socket.AF_UNIX)\n"
            "try:\n    s.connect(sys.argv[1]); r = 'connected'\n"
            "except OSError as e:\n    r = errno.errorcode.get(e.errno, str(e.errno))\n"
            "print(getpass.getuser(), r)")


def test_nginx_user_can_connect_other_users_cannot(host):
    color = _active(host)
    sock = f"{SOCKET_DIR}/gunicorn-{color}.sock"
    url = f"--unix-socket {sock} http://localhost/healthz"
    with host.sudo():
        ok = host.run(f"sudo -u www-data curl -s -o /dev/null -w '%{{http_code}}' {url}")
        allowed = host.run("sudo -u www-data python3 -c %s %s", _CONNECT, sock)
        denied = host.run("sudo -u nobody python3 -c %s %s", _CONNECT, sock)
    assert ok.stdout == "200"
    assert allowed.stdout.strip() == "www-data connected", allowed
    # The socket is there (nginx's user just connected): another user is refused by the permissions.
    assert denied.stdout.strip() == "nobody EACCES", denied


def test_nothing_listens_on_tcp_for_gunicorn(host):
    with host.sudo():
        tcp = host.check_output("ss -Htlnp")
    assert "gunicorn" not in tcp
    assert not re.search(r":8000\s", tcp)


def test_gunicorn_runs_from_the_release_virtualenv_not_system(host):
    color = _active(host)
    pid = _master_pid(host, color)
    cmdline = host.file(f"/proc/{pid}/cmdline").content_string.replace("\0", " ")
    assert re.search(rf"/srv/{APP}/releases/\w+/venv/bin/python\S* /srv/{APP}/releases/\w+/venv/bin/gunicorn", cmdline) \
        or re.search(rf"/srv/{APP}/releases/\w+/venv/bin/gunicorn", cmdline), cmdline
    assert f"--bind unix:{SOCKET_DIR}/gunicorn-{color}.sock" in cmdline
    assert not host.exists("/usr/bin/gunicorn") and not host.file("/usr/local/bin/gunicorn").exists


def test_worker_count_is_sized_from_the_cpus(host):
    color = _active(host)
    pid = _master_pid(host, color)
    workers = len(host.check_output(f"pgrep -P {pid}").split())
    cores = int(host.check_output("nproc"))
    assert workers == min(2 * cores + 1, 8)
