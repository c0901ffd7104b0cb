"""Which Debian packages a host has, read once per run, so that a role's
`apt` task runs only when one of its packages is missing.

Ansible's apt module loads the whole package cache even when every package
is already there (about 0.35 s a task); the preflight reads the installed
set once (`dpkg-query`, a few milliseconds) into the `preflight_installed_packages`
fact, and each role's install task asks `missing_packages`. A role run
without that fact (on its own, outside these playbooks) gets every package
back from the filter, so its apt task runs as before.
"""

from ansible.errors import AnsibleFilterError

# What the preflight asks dpkg: status abbreviation, name, version.
DPKG_QUERY_FORMAT = "${db:Status-Abbrev} ${Package} ${Version}\\n"


def dpkg_installed(lines):
    """`dpkg-query -W -f '<DPKG_QUERY_FORMAT>'` output lines -> {name: version} of installed packages."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    installed = {}
    for line in lines:
        fields = line.split()
        # "ii" (wanted: install, state: installed); "hi" is the same, held.
        if len(fields) == 3 and fields[0] in ("ii", "hi"):
            installed[fields[1]] = fields[2]
    return installed


def missing_packages(wanted, installed=None):
    """The names of `wanted` that `installed` ({name: version}) lacks; all of them when it is unknown."""
    if isinstance(wanted, str):
        wanted = [wanted]
    if not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"missing_packages expects a list of package names, got {type(wanted).__name__}")
    if not installed:
        return list(wanted)
    return [name for name in wanted if str(name) not in installed]


class FilterModule:
    def filters(self):
        return {"dpkg_installed": dpkg_installed, "missing_packages": missing_packages}
