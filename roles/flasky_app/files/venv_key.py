"""Which virtualenv a release needs: a key derived from its Python inputs.

Run by the deploy (build.yml) on the host, in the new release's directory:
    python3 - VENVS_DIR RELEASE_ID PIP_PACKAGES_JSON PIP_ENV_JSON REQUIREMENT_FILE... [-- CONSTRAINTS_FILE]
Prints {"key": ..., "ready": bool, "shared": bool}.

The key covers what decides the installed packages: the Python that makes
the venv, the requirement and constraints files (and every file they pull in
with -r/-c), the extra packages and pip's settings. Releases with the same key
share one environment under VENVS_DIR, so a code-only release installs nothing.
A requirement that points into the release itself (a local path, -e .) would
tie the venv to one release's files: then the key is made unique to the
release and nothing is shared.
"""

import hashlib
import json
import os
import platform
import re
import sys

venvs_dir, release_id, pip_packages, pip_env, *files = sys.argv[1:]
constraints = []
if "--" in files:
    files, constraints = files[:files.index("--")], files[files.index("--") + 1:]

digest = hashlib.sha256()
digest.update(f"{sys.version}|{platform.machine()}|{sys.base_prefix}\n".encode())
try:
    with open("/etc/os-release", encoding="utf-8") as handle:
        digest.update(handle.read().encode())
except OSError:
    pass
digest.update(f"{pip_packages}\n{pip_env}\n".encode())

INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)")
LOCAL = re.compile(r"^\s*(?:-e|--editable)\b|^\s*(?:\.{1,2}/|/|\.$|file:)")
shared = True
seen = set()


def feed(path, kind):
    """Hash a requirement/constraints file and the files it includes."""
    global shared
    path = os.path.normpath(path)
    if path in seen:
        return
    seen.add(path)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    digest.update(f"== {kind} {path}\n{text}\n".encode())
    for line in text.splitlines():
        line = line.split(" #", 1)[0]
        include = INCLUDE.match(line)
        if include:
            feed(os.path.join(os.path.dirname(path), include.group(1)), kind)
        elif LOCAL.match(line):
            shared = False


for name in files:
    feed(name, "requirements")
for name in constraints:
    feed(name, "constraints")
if any(LOCAL.match(spec) for spec in json.loads(pip_packages)):
    shared = False
if not shared:
    digest.update(f"release {release_id}\n".encode())

key = digest.hexdigest()[:16]
ready = os.path.isfile(os.path.join(venvs_dir, key, ".venv-ok"))
print(json.dumps({"key": key, "ready": ready, "shared": shared}))
