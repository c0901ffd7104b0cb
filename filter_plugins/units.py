"""Which systemd units a host runs and starts at boot, read once per run, so
that a role's "running now and at boot" task runs only when its unit is not.

The systemd_service module asks systemd about one unit per task (about
0.08 s of a no-op run each); the preflight lists every unit once (two
`systemctl` calls, a few milliseconds) into the `preflight_units_running`
fact: the units that are active and enabled. Each role asks `units_to_start`
for its units. A unit the list does not name (not loaded yet, installed
later in the run, stopped, disabled, static, a template's instance) comes
back from the filter, and so does every unit of a role run without that
fact (on its own, outside these playbooks): their tasks run as before.
"""

from ansible.errors import AnsibleFilterError

# The preflight prints the two listings after these lines.
UNITS_MARKER = "--- units ---"
FILES_MARKER = "--- unit files ---"


def systemd_running_enabled(text):
    """The output of `echo UNITS_MARKER; systemctl list-units --all --plain --no-legend;
    echo FILES_MARKER; systemctl list-unit-files --no-legend` -> sorted names of the units
    that are active and whose unit file is enabled."""
    if not isinstance(text, str):
        raise AnsibleFilterError(f"systemd_running_enabled expects text, got {type(text).__name__}")
    if UNITS_MARKER not in text or FILES_MARKER not in text:
        return []
    units_part, files_part = text.split(UNITS_MARKER, 1)[1].split(FILES_MARKER, 1)
    active = set()
    for line in units_part.splitlines():
        fields = line.replace("\u25cf", " ").split()
        # UNIT LOAD ACTIVE SUB DESCRIPTION...
        if len(fields) >= 4 and fields[1] == "loaded" and fields[2] == "active":
            active.add(fields[0])
    enabled = set()
    for line in files_part.splitlines():
        fields = line.split()
        # UNIT-FILE STATE [VENDOR-PRESET]
        if len(fields) >= 2 and fields[1] == "enabled":
            enabled.add(fields[0])
    return sorted(active & enabled)


def _unit_name(name):
    name = str(name)
    return name if "." in name.rsplit("@", 1)[-1] else f"{name}.service"


def units_to_start(wanted, running=None):
    """The units of `wanted` (names, ".service" implied) that `running` (the preflight's list of
    active and enabled units) does not name; all of them when it is unknown."""
    if isinstance(wanted, str):
        wanted = [wanted]
    if not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"units_to_start expects a list of unit names, got {type(wanted).__name__}")
    if running is None:
        return list(wanted)
    known = set(running)
    return [name for name in wanted if _unit_name(name) not in known]


class FilterModule:
    def filters(self):
        return {"systemd_running_enabled": systemd_running_enabled, "units_to_start": units_to_start}
