"""filter_plugins/source.py: the source tree's fingerprint (part of the release id)
is the one the shell pipeline it replaced computes, so a deploy of an unchanged
tree after the upgrade builds nothing; and it changes when any kept file does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "filter_plugins"))

from source import tree_fingerprint  # noqa: E402

EXCLUDES = [".git", "__pycache__", "*.pyc", "skipme", ".env"]


def shell_fingerprint(path, excludes):
    names = " -o ".join(f"-name '{p}'" for p in excludes)
    cmd = (f"set -o pipefail; cd '{path}' && find . \\( {names} \\) -prune -o -type f -print0"
           " | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64")
    return subprocess.run(["bash", "-c", cmd], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "src"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "sub" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0\1")
    (root / "skipme").mkdir()
    (root / "skipme" / "data").write_text("left out\n")
    (root / "stray.pyc").write_bytes(b"\2")
    (root / ".env").write_text("SECRET=1\n")
    (root / "Zed").mkdir()
    (root / "Zed" / "é.txt").write_text("utf-8 name\n")
    (root / "back\\slash").write_text("escaped by sha256sum\n")
    (root / "new\nline").write_text("escaped too\n")
    (root / "_under").write_text("sorts by byte\n")
    os.symlink("pkg/sub/mod.py", root / "link-to-file")
    os.symlink("pkg", root / "link-to-dir")
    return root


def test_the_same_value_as_the_shell_pipeline(tree):
    assert tree_fingerprint(str(tree), EXCLUDES) == shell_fingerprint(tree, EXCLUDES)


def test_the_bundled_app_too():
    excludes = [".venv", "venv", "__pycache__", "*.pyc", "*.db", "*.sqlite", ".env", ".pytest_cache", "instance",
                ".git", "tests"]
    app = ROOT / "app"
    assert tree_fingerprint(str(app), excludes) == shell_fingerprint(app, excludes)


def test_a_kept_file_changes_it_an_excluded_one_does_not(tree):
    before = tree_fingerprint(str(tree), EXCLUDES)
    (tree / "skipme" / "data").write_text("changed, still left out\n")
    (tree / ".env").write_text("SECRET=2\n")
    assert tree_fingerprint(str(tree), EXCLUDES) == before
    (tree / "pkg" / "sub" / "mod.py").write_text("x = 2\n")
    assert tree_fingerprint(str(tree), EXCLUDES) != before


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(Exception, match="is not a directory"):
        tree_fingerprint(str(tmp_path / "nope"), EXCLUDES)
