"""The cluster's web hosts install their virtualenvs with pip
(flasky_app_installer: pip in its group_vars; the default scenario proves
uv): the live release's virtualenv is pip's, no uv is installed, and it
imports the app's stack as the app's user."""

import pytest

import kit
from conftest import group, host

VENV = f"{kit.HOME}/current/venv"


@pytest.mark.parametrize("name", group("web"))
def test_the_live_virtualenv_is_pips_and_no_uv_is_installed(name):
    h = host(name)
    with h.sudo():
        files = h.check_output(f"ls {VENV}/bin").split()
        tools = h.run(f"ls {kit.HOME}/tools")
        out = h.run(f"runuser -u {kit.APP} -- {VENV}/bin/python -c "
                    "'import flask, gunicorn, sqlalchemy, psycopg; print(\"imports ok\")'")
    assert "pip" in files and "gunicorn" in files, files
    assert tools.rc != 0, f"a tools directory on a pip host: {tools.stdout}"
    assert out.rc == 0 and "imports ok" in out.stdout, out.stderr
