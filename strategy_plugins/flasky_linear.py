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

Either way, the plugin also keeps compiled Jinja templates. Ansible runs
every task in a process forked from the playbook's, so each task compiles
again every template it meets (a role's `when`, a default like
"{{ app_name }}"): a no-op site.yml compiled 2 700 templates, 713 of them
different, in 2.7 s of its 14. Here compiled code is stored once, in
.cache/jinja-code/, and loaded by every later task and run. What the code
depends on is in its key (the template's text; the syntax settings, header
overrides and backslash escaping it was compiled with; expression or
template; the Python, Jinja and ansible-core releases and Ansible's template
settings) or checked when it is loaded (each filter and test it calls still
exists and takes the same arguments from Jinja: the plugins can change
between runs). A template that does not compile is never stored, so it fails
with Jinja's own message every time. Deleting the directory is always safe.

The playbook's process also loads, once and before it forks, what each task
process would load again: the filter and test plugins, Jinja's lexer, the
collections' routing tables, and (under Mitogen) the list of installed
collections, which Mitogen otherwise reads for every task that runs a
collection's module. FLASKY_TEMPLATE_CACHE=0 turns all of this off.
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
    """Compiled Jinja code, kept in files that every process of every run shares.

    install() wraps AnsibleEnvironment.compile (templates given as text) and
    compile_expression (conditionals and other bare expressions). A file
    holds the code object and the filters and tests it calls, with how each
    takes its arguments; it is used only while these still hold.
    """

    def __init__(self, directory, salt=""):
        self.directory = directory
        self.salt = salt
        self.memory = {}
        self._expr_key = threading.local()
        self.hits = self.stores = self.stale = 0

    def key(self, env, kind, text, *extra):
        from ansible._internal._templating import _jinja_bits as bits

        ctx = bits._TemplateCompileContext.current(optional=True)
        settings = tuple(getattr(env, name) for name in bits._TEMPLATE_OVERRIDE_FIELD_NAMES)
        material = repr((self.salt, kind, type(env).__qualname__, settings, env.optimized, env.is_async,
                         bool(ctx and ctx.escape_backslashes), extra, str(text)))
        return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def calls(cls, env, tree):
        """The filters and tests a parsed template calls, with how Jinja passes them arguments."""
        from jinja2 import nodes

        return tuple(sorted({(isinstance(node, nodes.Filter), node.name,
                              cls._passes(env, isinstance(node, nodes.Filter), node.name))
                             for node in tree.find_all((nodes.Filter, nodes.Test))}))

    def load(self, key, env):
        code = self.memory.get(key)
        if code is None:
            try:
                with open(os.path.join(self.directory, key), "rb") as f:
                    calls, code = marshal.loads(f.read())
                if any(self._passes(env, is_filter, name) != passes for is_filter, name, passes in calls):
                    self.stale += 1
                    return None
            except (OSError, EOFError, ValueError, TypeError):
                return None
            self.memory[key] = code
        self.hits += 1
        return code

    @staticmethod
    def _passes(env, is_filter, name):
        try:
            func = (env.filters if is_filter else env.tests).get(name)
        except Exception:
            return "error"
        return "missing" if func is None else str(getattr(func, "jinja_pass_arg", None))

    def store(self, key, env, tree, code):
        self.memory[key] = code
        path = os.path.join(self.directory, key)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            data = marshal.dumps((self.calls(env, tree), code))
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            self.stores += 1
        except (OSError, ValueError):
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
            code = cache.load(key, env)
            if code is None:
                code = compile_(env, source)  # as Ansible would, errors included
                cache.store(key, env, env.parse(source) if isinstance(source, str) else source, code)
            return code

        def cached_compile_expression(env, source, undefined_to_none=True):
            if not isinstance(source, str):
                return compile_expression(env, source, undefined_to_none)
            key = cache.key(env, "expression", source, bool(undefined_to_none))
            code = cache.load(key, env)
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


def code_cache_directory(root):
    """The directory for this Python, Jinja, ansible-core and template configuration
    under root (other ones are removed: a new release of any of them compiles anew)."""
    import shutil
    import sys

    import jinja2
    from ansible.release import __version__ as core
    from ansible._internal._templating._jinja_common import _TemplateConfig

    salt = repr((sys.version, jinja2.__version__, core, _TemplateConfig.allow_embedded_templates,
                 _TemplateConfig.allow_broken_conditionals, _TemplateConfig.jinja_extensions,
                 str(_TemplateConfig.sandbox_mode)))
    name = hashlib.sha256(salt.encode()).hexdigest()[:16]
    os.makedirs(os.path.join(root, name), mode=0o700, exist_ok=True)
    for other in os.listdir(root):
        if other != name:
            shutil.rmtree(os.path.join(root, other), ignore_errors=True)
    return os.path.join(root, name), salt


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
        _root = os.environ.get("FLASKY_TEMPLATE_CACHE_DIR") or os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "jinja-code")
        TEMPLATE_CACHE = TemplateCodeCache(*code_cache_directory(_root)).install()
        _warm_up()
    except Exception as exc:  # an ansible-core whose internals moved: run without it
        Display().vvv(f"flasky_linear: no template cache ({type(exc).__name__}: {exc})")

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


def _share_collection_dirs():
    """Mitogen lists the installed collections for every task that runs a
    collection's module (0.1 s each with the `ansible` bundle's 90). The
    first task of a run lists them; the others read its list."""
    import json

    import ansible.collections.list
    import ansible_mitogen.planner
    from ansible import constants as C

    path = os.path.join(C.DEFAULT_LOCAL_TMP, "flasky-collection-dirs.json")  # this run's own

    def load_collections(invocation):
        try:
            with open(path) as f:
                dirs = json.load(f)
        except (OSError, ValueError):
            dirs = [p.decode("utf-8") for p in ansible.collections.list.list_collection_dirs()]
            tmp = f"{path}.{os.getpid()}.tmp"
            try:
                with open(tmp, "w") as f:
                    json.dump(dirs, f)
                os.replace(tmp, path)
            except OSError:
                pass
        invocation._extra_sys_paths.update(dirs)

    if hasattr(ansible_mitogen.planner, "_load_collections"):
        ansible_mitogen.planner._load_collections = load_collections


if ACCELERATED and not _off("FLASKY_TEMPLATE_CACHE"):
    try:
        _share_collection_dirs()
    except Exception as exc:
        Display().vvv(f"flasky_linear: collections listed per task ({type(exc).__name__}: {exc})")


if ACCELERATED:
    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """Mitogen's executor around the stock linear strategy."""

else:
    class StrategyModule(_Linear):
        """The stock linear strategy."""
