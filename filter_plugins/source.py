"""The fingerprint of an application's source tree, on the controller.

`tree_fingerprint` hashes every regular file under a directory (names
matching one of the exclude patterns are left out, with everything under
them) into one sha256. It is computed in the templating process, so a deploy
pays no task and no local command for it. The value is the one of

    cd DIR && find . \\( -name PAT1 -o -name PAT2 ... \\) -prune -o -type f -print0 \\
      | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum

(the release ids of earlier deploys stay the same).
"""

import fnmatch
import hashlib
import os

from ansible.errors import AnsibleFilterError


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256sum_line(digest, name):
    # coreutils' sha256sum escapes a name holding a backslash or a newline.
    if b"\\" in name or b"\n" in name:
        return b"\\" + digest.encode() + b"  " + name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n") + b"\n"
    return digest.encode() + b"  " + name + b"\n"


def tree_fingerprint(path, excludes=()):
    """sha256 (hex) of the regular files under `path`, pruning names that match `excludes` (shell patterns)."""
    if not os.path.isdir(path):
        raise AnsibleFilterError(f"tree_fingerprint: {path} is not a directory")
    patterns = [os.fsencode(str(p)) for p in excludes]
    root = os.fsencode(path)
    names = []
    for top, dirs, files in os.walk(root):
        # find -prune: an excluded directory is not entered, an excluded file not listed.
        dirs[:] = [d for d in dirs if not any(fnmatch.fnmatchcase(d, p) for p in patterns)]
        rel = os.path.relpath(top, root)
        prefix = b"." if rel == b"." else b"./" + rel
        for name in files:
            full = os.path.join(top, name)
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                continue
            if os.path.isfile(full) and not os.path.islink(full):  # find -type f
                names.append((prefix + b"/" + name, full))
        # Symbolic links to directories are listed by os.walk as directories but not followed:
        # find -type f skips them too.
    names.sort(key=lambda item: item[0])  # LC_ALL=C sort -z: byte order
    listing = b"".join(_sha256sum_line(_sha256_file(full), name) for name, full in names)
    return hashlib.sha256(listing).hexdigest()


class FilterModule:
    def filters(self):
        return {"tree_fingerprint": tree_fingerprint}
