"""The strategy ansible.cfg names (strategy_plugins/flasky_linear.py): Mitogen
when it is installed, Ansible's stock linear strategy when it is not or when
it is turned off. Each case runs a real playbook with the project's
ansible.cfg, on the controller itself, and tells the executors apart by what
ran the module: under Mitogen a module runs in Mitogen's interpreter, which
has `mitogen.core` loaded; the stock executor starts a fresh interpreter for
every task."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Which executor runs modules
      flasky_probe:
      register: probe
    - name: Say it
      ansible.builtin.debug:
        msg: "MITOGEN_IN_MODULE={{ probe.mitogen }}"
"""

MODULE = """#!/usr/bin/python
import sys
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={})
module.exit_json(changed=False, mitogen='mitogen.core' in sys.modules)
"""

# Stands in for a controller without Mitogen: an ansible_mitogen that cannot be imported.
NOT_INSTALLED = "raise ImportError('No module named ansible_mitogen (test stand-in)')\n"


def run(tmp_path, **env_extra):
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "library" / "flasky_probe.py").write_text(MODULE)
    (tmp_path / "probe.yml").write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "MOLECULE_", "FLASKY_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PATH=f"{BIN}:{env['PATH']}", ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_LIBRARY=str(tmp_path / "library"), ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.update(env_extra)
    res = subprocess.run(["ansible-playbook", str(tmp_path / "probe.yml")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    found = [line for line in out.splitlines() if "MITOGEN_IN_MODULE=" in line]
    assert found, out
    return found[-1].split("MITOGEN_IN_MODULE=", 1)[1].strip().strip("\"'") == "True", out


def test_mitogen_runs_the_modules_by_default(tmp_path):
    accelerated, out = run(tmp_path)
    assert accelerated, f"the project's ansible.cfg did not run the module through Mitogen:\n{out}"
    assert "Mitogen is not available" not in out


def test_ansible_strategy_linear_turns_it_off(tmp_path):
    accelerated, out = run(tmp_path, ANSIBLE_STRATEGY="linear")
    assert not accelerated, out


def test_flasky_mitogen_0_turns_it_off_quietly(tmp_path):
    accelerated, out = run(tmp_path, FLASKY_MITOGEN="0")
    assert not accelerated, out
    assert "Mitogen is not available" not in out


def test_without_mitogen_the_stock_strategy_runs_with_a_warning(tmp_path):
    shadow = tmp_path / "shadow" / "ansible_mitogen"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(NOT_INSTALLED)
    accelerated, out = run(tmp_path, PYTHONPATH=str(shadow.parent))
    assert not accelerated, out
    assert "Mitogen is not available, running the stock linear strategy" in out, out
    assert "test stand-in" in out, "the warning names the cause"
