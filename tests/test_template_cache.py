"""The compiled-template sharing of strategy_plugins/flasky_linear.py: the
same results as Ansible's own compiling, for templates whose text is the same
but whose compiled code must differ (syntax overrides, backslash escaping,
expression or template); code stored once and then loaded, not compiled
again, by another process's cache on the same directory."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (text, how it is evaluated) pairs; the same text appears under several ways.
CASES = [
    ("{{ a ~ '-' ~ b }}", "template"),
    ("a ~ '-' ~ b", "expression"),
    ("a == 'x'", "conditional"),
    ("a != 'x'", "conditional"),
    ("{{ 'one\\ntwo' }}", "template"),
    ("{{ 'one\\ntwo' }}", "template-no-escape"),
    ("#jinja2:variable_start_string:'[%', variable_end_string:'%]'\n[% a %]{{ a }}", "template"),
    ("[% a %]{{ a }}", "template"),
    ("{% for i in range(3) %}{{ i }}{{ b }}{% endfor %}", "template"),
    ("{{ [3, 1, 2] | sort | join(',') }} {{ b is defined }}", "template"),
]


@pytest.fixture(scope="module")
def plugin():
    os.environ["FLASKY_TEMPLATE_CACHE"] = "0"  # import without installing the run-wide cache
    try:
        spec = importlib.util.spec_from_file_location("flasky_linear_under_test",
                                                      ROOT / "strategy_plugins" / "flasky_linear.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del os.environ["FLASKY_TEMPLATE_CACHE"]
    assert module.TEMPLATE_CACHE is None
    return module


def render_all():
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    templar = Templar(loader=DataLoader(), variables={"a": "x", "b": "y"})
    out = []
    for text, how in CASES:
        text = trust_as_template(text)
        if how == "template":
            out.append(templar.template(text))
        elif how == "template-no-escape":
            out.append(templar.template(text, escape_backslashes=False))
        elif how == "expression":
            out.append(templar.evaluate_expression(text))
        else:
            out.append(templar.evaluate_conditional(text))
    return out


def test_same_results_stored_once_then_loaded(plugin, tmp_path):
    expected = render_all()
    assert expected[0] == "x-y" and expected[6] != expected[7], expected  # the cases mean what they say

    first = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        assert render_all() == expected
        assert render_all() == expected  # now from this process's memory
    finally:
        first.uninstall()
    stored = sorted(p.name for p in tmp_path.iterdir())
    assert first.stores == len(stored) >= len(CASES), stored
    assert not [name for name in stored if name.endswith(".tmp")]

    # Another task process: an empty memory, the same directory.
    second = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        assert render_all() == expected
    finally:
        second.uninstall()
    assert second.stores == 0 and second.hits >= len(CASES)
    assert sorted(p.name for p in tmp_path.iterdir()) == stored


def test_a_text_compiled_as_a_template_and_as_an_expression_has_two_keys(plugin, tmp_path):
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment

    cache, env = plugin.TemplateCodeCache(str(tmp_path)), AnsibleEnvironment()
    assert len({cache.key(env, "template", "a"), cache.key(env, "expression", "a", False),
                cache.key(env, "expression", "a", True)}) == 3


def test_the_stored_code_is_what_runs(plugin, tmp_path):
    """Swap two stored entries: a process that loads them must run the swapped code."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    cache = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        templar = Templar(loader=DataLoader(), variables={"a": "x", "b": "y"})
        assert templar.template(trust_as_template("{{ a }}")) == "x"
        files = {p.name for p in tmp_path.iterdir()}
        assert templar.template(trust_as_template("{{ b }}")) == "y"
        (new,) = {p.name for p in tmp_path.iterdir()} - files
        (old,) = files
    finally:
        cache.uninstall()
    a_code, b_code = (tmp_path / old).read_bytes(), (tmp_path / new).read_bytes()
    (tmp_path / old).write_bytes(b_code)
    (tmp_path / new).write_bytes(a_code)

    other = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        templar = Templar(loader=DataLoader(), variables={"a": "x", "b": "y"})
        assert templar.template(trust_as_template("{{ a }}")) == "y"
    finally:
        other.uninstall()


def test_code_whose_filters_changed_is_compiled_again(plugin, tmp_path):
    """A stored entry names the filters its code calls and how Jinja passes them
    arguments; when a plugin no longer matches, the entry is not used."""
    import marshal

    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    text = "{{ [3, 1, 2] | sort | join(',') }}"
    cache = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        assert Templar(loader=DataLoader()).template(trust_as_template(text)) == "1,2,3"
    finally:
        cache.uninstall()
    (entry,) = tmp_path.iterdir()
    calls, code = marshal.loads(entry.read_bytes())
    assert {name for _, name, _ in calls} == {"sort", "join"}, calls
    # As if `sort` had taken Jinja's context when this code was compiled.
    entry.write_bytes(marshal.dumps((tuple((f, n, "_PassArg.context" if n == "sort" else p)
                                           for f, n, p in calls), code)))

    other = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        assert Templar(loader=DataLoader()).template(trust_as_template(text)) == "1,2,3"
    finally:
        other.uninstall()
    assert (other.stale, other.hits, other.stores) == (1, 0, 1)
    assert marshal.loads(entry.read_bytes())[0] == calls


def test_a_template_that_does_not_compile_is_not_stored(plugin, tmp_path):
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    cache = plugin.TemplateCodeCache(str(tmp_path)).install()
    try:
        templar = Templar(loader=DataLoader(), variables={})
        for _ in range(2):
            with pytest.raises(AnsibleError, match="expected token 'name'"):
                templar.template(trust_as_template("{{ a | }}"))
            with pytest.raises(AnsibleError, match="No filter named 'no_such_filter'"):
                templar.evaluate_conditional(trust_as_template("1 | no_such_filter"))
    finally:
        cache.uninstall()
    assert list(tmp_path.iterdir()) == []


def test_runs_share_their_templates(tmp_path):
    """The project's ansible.cfg installs the cache for a real run: the first run
    stores the templates it compiles, the next one loads them and stores none."""
    import subprocess
    import sys

    playbook = tmp_path / "p.yml"
    playbook.write_text("""
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    greeting: "{{ 'hel' ~ 'lo' }}"
  tasks:
    - name: Use a template twice
      ansible.builtin.debug:
        msg: "{{ greeting }} {{ greeting | upper }}"
      when: greeting is defined
""")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "MOLECULE_", "FLASKY_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PATH=f"{Path(sys.executable).parent}:{env['PATH']}", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", FLASKY_TEMPLATE_CACHE_DIR=str(tmp_path / "code"))
    states = []
    for _ in range(2):
        res = subprocess.run(["ansible-playbook", str(playbook)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        out = res.stdout + res.stderr
        assert res.returncode == 0, out
        assert "hello HELLO" in out, out
        states.append({p.name: p.stat().st_mtime_ns for p in (tmp_path / "code").rglob("*") if p.is_file()})
    assert len(states[0]) >= 3, states[0]
    assert states[1] == states[0]
