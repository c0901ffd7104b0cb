"""The virtualenvs' packages are installed by uv (flasky_app_installer's
default; the cluster scenario proves pip): uv lives in a directory of its
own under the app's home, the live release's virtualenv is uv's (no pip in
it), compiled, and imports the app's stack as the app's user. A pip setting
uv has no name for stops the deploy before it changes anything."""

import re

import kit

testinfra_hosts = [kit.first_web_host_name()]

VENV = f"{kit.HOME}/current/venv"


def test_uv_is_installed_once_in_a_directory_of_its_own(host):
    with host.sudo():
        tools = host.check_output(f"ls {kit.HOME}/tools").split()
        assert len(tools) == 1 and tools[0].startswith("uv-"), tools
        version = host.check_output(f"{kit.HOME}/tools/{tools[0]}/bin/uv --version")
        owner = host.file(f"{kit.HOME}/tools/{tools[0]}").user
    assert version.startswith(f"uv {tools[0].removeprefix('uv-')} "), version
    assert owner == kit.APP


def test_the_live_virtualenv_is_uvs_compiled_and_imports_the_stack(host):
    with host.sudo():
        files = host.check_output(f"ls {VENV}/bin").split()
        compiled = host.run(f"find -L {VENV}/lib -path '*/flask/__pycache__/*.pyc' | head -1").stdout.strip()
        out = host.run(f"runuser -u {kit.APP} -- {VENV}/bin/python -c "
                       "'import flask, gunicorn, sqlalchemy, psycopg; print(\"imports ok\")'")
    # pip's virtualenvs have pip in bin/; uv's (no --seed) do not.
    assert "pip" not in files and "gunicorn" in files and "flask" in files, files
    assert compiled, "no compiled bytecode in the virtualenv"
    assert out.rc == 0 and "imports ok" in out.stdout, out.stderr


def test_a_pip_setting_uv_cannot_read_stops_the_deploy_before_any_change(host):
    name = host.backend.get_hostname()
    before = kit.live_release(host)
    rc, out = kit.playbook("playbooks/deploy.yml", name, "-e",
                           '{"flasky_app_pip_env": {"PIP_PRE": "1"}, "flasky_app_pip_packages": ["gunicorn", "six"]}')
    text = re.sub(r"\s+", " ", out)
    assert rc != 0, out[-3000:]
    assert "flasky_app_pip_env sets PIP_PRE, which uv (flasky_app_installer) has no setting for" in text, out[-3000:]
    assert "set flasky_app_installer to pip" in text
    assert re.search(rf"^{re.escape(name)}\s*:\s*ok=\d+\s+changed=0\s.*failed=1", out, re.M), out[-3000:]
    assert kit.live_release(host) == before
