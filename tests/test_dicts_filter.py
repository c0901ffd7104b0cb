"""filter_plugins/dicts.py: rename_keys, as the flasky_app role uses it to pass
pip's index settings to uv under uv's names (roles/flasky_app/vars/main.yml)."""

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "filter_plugins"))

from ansible.errors import AnsibleFilterError  # noqa: E402
from dicts import rename_keys  # noqa: E402

UV_NAMES = yaml.safe_load((ROOT / "roles/flasky_app/vars/main.yml").read_text())["_flasky_app_uv_names"]


def test_pip_settings_reach_uv_under_its_names_and_the_rest_as_they_are():
    pip_env = {"PIP_INDEX_URL": "https://127.0.0.1:3141/simple", "PIP_TRUSTED_HOST": "127.0.0.1",
               "PIP_CERT": "/etc/ssl/ca.pem", "PIP_DEFAULT_TIMEOUT": "30", "https_proxy": "http://proxy:3128"}
    assert rename_keys(pip_env, UV_NAMES) == {
        "UV_DEFAULT_INDEX": "https://127.0.0.1:3141/simple", "UV_INSECURE_HOST": "127.0.0.1",
        "SSL_CERT_FILE": "/etc/ssl/ca.pem", "UV_HTTP_TIMEOUT": "30", "https_proxy": "http://proxy:3128"}


def test_two_names_for_one_setting_the_later_wins():
    assert rename_keys({"PIP_DEFAULT_TIMEOUT": "30", "PIP_TIMEOUT": "60"}, UV_NAMES) == {"UV_HTTP_TIMEOUT": "60"}


def test_not_a_dictionary_is_refused():
    with pytest.raises(AnsibleFilterError):
        rename_keys(["PIP_INDEX_URL"], UV_NAMES)
