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
"""

import os

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

if os.environ.get("FLASKY_MITOGEN", "1").strip().lower() in ("0", "no", "false", "off"):
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
