"""The strategy ansible.cfg names: `linear`, accelerated by Mitogen when it can be.

Ansible's own `linear` strategy runs every task as a new Python process on
the host, sent over SSH. Mitogen (the `mitogen` package, pinned in
requirements.txt) keeps one Python interpreter per host and sends it the
modules instead: the same tasks, in the same order, with the same results,
at a fraction of the cost per task (see the README's benchmark figures).

This strategy is Mitogen's `linear` when the `ansible_mitogen` package
imports and accepts this ansible-core, and Ansible's stock `linear`
otherwise, with a warning saying why. The plays are written for both, and
`make test` runs both. To turn the accelerator off for one run:

    ANSIBLE_STRATEGY=linear ansible-playbook site.yml -i inventories/prod

or for good, `strategy = linear` in ansible.cfg; FLASKY_MITOGEN=0 does the
same through this plugin (it then loads the stock strategy, quietly).

Either way, the plugin also shares compiled Jinja templates between the
run's task processes. Ansible runs every task in a process forked from the
playbook's, so each task compiles again every template it meets (a role's
`when`, a default like "{{ app_name }}"), though the playbook's process never
compiled any of them: a no-op site.yml compiled 2 700 templates, 713 of them
different, in 2.7 s of its 14. Here the first process to compile a template
stores the compiled code in a directory of the run's own (under Ansible's
local tmp, removed when the run ends); the others load it. The code Jinja
makes depends only on the template's text, the environment's syntax settings,
Ansible's backslash escaping and which filters exist, and none of these
changes during a run. The playbook's process also loads, once and before it
forks, what each task process would load again: the filter and test plugins,
Jinja's lexer, and the collections' routing tables. FLASKY_TEMPLATE_CACHE=0
turns the sharing off.
"""

import hashlib
import marshal
import os
import threading

from ansible.plugins.strategy.linear import StrategyModule as _Linear
from ansible.utils.display import Display

DOCUMENTATION = """
    name: flasky_linear
    short_description: linear, through Mitogen when it is installed and supported
    description:
        - Runs tasks like the stock C(linear) strategy; uses Mitogen's connection
          and module executor when the C(ansible_mitogen) package is importable.
        - Falls back to the stock C(linear) strategy, with a warning, when it is not.
        - FLASKY_MITOGEN=0 selects the stock strategy without a warning.
    author: flasky-deploy
"""

ACCELERATED = False
WHY_NOT = ""


def _off(name):
    return os.environ.get(name, "1").strip().lower() in ("0", "no", "false", "off")


class TemplateCodeCache:
    """Compiled Jinja code, shared through files by the processes of one run.

    install() wraps AnsibleEnvironment.compile (templates given as text) and
    compile_expression (conditionals and other bare expressions). A key is
    the hash of everything the generated code depends on besides the
    filters; a value is the code object, marshalled. A failed compile is not
    stored: the next process fails the same way, with Jinja's own message.
    """

    def __init__(self, directory):
        self.directory = directory
        self.memory = {}
        self._expr_key = threading.local()
        self.hits = self.stores = 0

    def key(self, env, kind, text, *extra):
        from ansible._internal._templating import _jinja_bits as bits

        ctx = bits._TemplateCompileContext.current(optional=True)
        settings = tuple(getattr(env, name) for name in bits._TEMPLATE_OVERRIDE_FIELD_NAMES)
        material = repr((kind, type(env).__qualname__, settings, env.optimized, env.is_async,
                         bool(ctx and ctx.escape_backslashes), extra, str(text)))
        return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()

    def load(self, key):
        code = self.memory.get(key)
        if code is None:
            try:
                with open(os.path.join(self.directory, key), "rb") as f:
                    code = marshal.loads(f.read())
            except (OSError, EOFError, ValueError, TypeError):
                return None
            self.memory[key] = code
        self.hits += 1
        return code

    def store(self, key, code):
        self.memory[key] = code
        path = os.path.join(self.directory, key)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(tmp, path)
            self.stores += 1
        except OSError:
            pass

    def install(self):
        from jinja2.environment import TemplateExpression
        from ansible._internal._templating._jinja_bits import AnsibleEnvironment

        cache = self
        compile_ = AnsibleEnvironment.compile
        compile_expression = AnsibleEnvironment.compile_expression

        def cached_compile(env, source, name=None, filename=None, raw=False, defer_init=False):
            if name is not None or filename is not None or raw or defer_init:
                return compile_(env, source, name, filename, raw, defer_init)
            if isinstance(source, str):
                key = cache.key(env, "template", source)
            else:  # the parsed body of compile_expression below
                key = getattr(cache._expr_key, "value", None)
                if key is None:
                    return compile_(env, source)
                cache._expr_key.value = None
            code = cache.load(key)
            if code is None:
                code = compile_(env, source)
                cache.store(key, code)
            return code

        def cached_compile_expression(env, source, undefined_to_none=True):
            if not isinstance(source, str):
                return compile_expression(env, source, undefined_to_none)
            key = cache.key(env, "expression", source, bool(undefined_to_none))
            code = cache.load(key)
            if code is None:
                cache._expr_key.value = key
                try:
                    return compile_expression(env, source, undefined_to_none)
                finally:
                    cache._expr_key.value = None
            template = env.template_class.from_code(env, code, env.make_globals(None), None)
            return TemplateExpression(template, bool(undefined_to_none))

        self._originals = (compile_, compile_expression)
        AnsibleEnvironment.compile = cached_compile
        AnsibleEnvironment.compile_expression = cached_compile_expression
        return self

    def uninstall(self):
        from ansible._internal._templating._jinja_bits import AnsibleEnvironment

        AnsibleEnvironment.compile, AnsibleEnvironment.compile_expression = self._originals


def _warm_up():
    """Load, in the playbook's process, what every forked task would load again:
    the filter and test plugins that are not in collections, Jinja's lexer,
    and the routing tables (meta/runtime.yml) of ansible.builtin and of the
    collections requirements.yml lists."""
    import importlib
    from pathlib import Path

    import yaml
    from ansible.plugins.loader import filter_loader, test_loader
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment

    filter_loader.get("default")
    test_loader.get("defined")
    AnsibleEnvironment().lexer  # noqa: B018  (cached per syntax settings, on the class)
    names = ["ansible.builtin"]
    try:
        with open(Path(__file__).resolve().parents[1] / "requirements.yml") as f:
            names += [c["name"] for c in yaml.safe_load(f)["collections"]]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    for name in names:
        try:
            importlib.import_module(f"ansible_collections.{name}")
        except Exception:  # not installed: its tasks fail with Ansible's own message
            pass


TEMPLATE_CACHE = None
if not _off("FLASKY_TEMPLATE_CACHE"):
    try:
        from ansible import constants as C

        _dir = os.path.join(C.DEFAULT_LOCAL_TMP, "jinja-code")
        os.makedirs(_dir, mode=0o700, exist_ok=True)
        TEMPLATE_CACHE = TemplateCodeCache(_dir).install()
        os.environ["FLASKY_TEMPLATE_CACHE_DIR"] = _dir  # (where it is, for a look during the run)
        _warm_up()
    except Exception as exc:  # an ansible-core whose internals moved: run without it
        Display().vvv(f"flasky_linear: no shared template cache ({type(exc).__name__}: {exc})")

if _off("FLASKY_MITOGEN"):
    WHY_NOT = "FLASKY_MITOGEN is off"
else:
    try:
        import ansible_mitogen.loaders  # noqa: F401  (checks the ansible-core release)
        import ansible_mitogen.strategy
    except Exception as exc:  # ImportError, or Mitogen refusing this ansible-core
        WHY_NOT = f"{type(exc).__name__}: {exc}"
        Display().warning(
            "flasky_linear: Mitogen is not available, running the stock linear strategy "
            f"(slower per task, same results). Cause: {WHY_NOT}. `make setup` installs it "
            "into .venv; set FLASKY_MITOGEN=0 to silence this.")
    else:
        ACCELERATED = True


if ACCELERATED:
    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """Mitogen's executor around the stock linear strategy."""

else:
    class StrategyModule(_Linear):
        """The stock linear strategy."""
