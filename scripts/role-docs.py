#!/usr/bin/env python3
"""Role variable tables, generated from each role's meta/argument_specs.yml.

The argument spec is the one source of a role variable's documentation: its
type, required flag, choices and description. This script writes them, with
the default as written in defaults/main.yml, into the role's README.md between
the BEGIN/END VARIABLES markers (the rest of the README is left alone).

    .venv/bin/python scripts/role-docs.py           rewrite the tables (make docs)
    .venv/bin/python scripts/role-docs.py --check   change nothing; exit 1 naming every problem
    .venv/bin/python scripts/role-docs.py ROLE...   only these roles (both modes)

Without --check it writes the tables, then reports (exit 1) the problems below
that a table cannot fix.

--check (a lint step of scripts/run-tests.sh) fails when, for a role:
  - the README's generated table differs from what the spec gives (the message
    names each variable whose row differs), or the markers are missing;
  - defaults/main.yml and the spec's `main` entry point disagree: a default
    without an option, an option without a default that is not `required`,
    a `required` option with a default (it could never be missing), a default
    outside the option's choices;
  - an option has no description;
  - a default has no comment: every variable in defaults/main.yml is preceded by
    a one-line comment, or shares the comment of the variables just above it
    (no blank line between them), for people reading that file. A section rule
    (`# --- ...`) is not a comment on the variable under it.

Other entry points (`argument_specs: {rollback: ...}`, checked by Ansible when a
playbook uses `tasks_from: rollback.yml`) may list options without a default:
values a playbook passes, or options only that entry point takes. Each gets its
own table under the main one, with defaults where defaults/main.yml has them,
and is not compared with defaults/main.yml (that file belongs to `main`); an
option it shares with `main` must have the same type there.

The README's table is written where the markers are; a README without markers
gets it in place of its hand-written table (the first table whose first column
is "variable"), or else in a "## Variables" section at its end.
"""
import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLES = ROOT / "roles"
BEGIN = ("<!-- BEGIN VARIABLES (generated from meta/argument_specs.yml by scripts/role-docs.py; "
         "do not edit) -->")
END = "<!-- END VARIABLES -->"
HEADER = ["| variable | type | default | required | choices | description |",
          "| --- | --- | --- | --- | --- | --- |"]
TEMPLATED = re.compile(r"{{|{%")


# --- reading the role ----------------------------------------------------------

class Defaults:
    """defaults/main.yml: each variable's value, its literal text and whether a comment describes it."""

    def __init__(self, path):
        self.path = path
        self.values, self.literal, self.commented = {}, {}, {}
        if not path.is_file():
            return
        text = path.read_text()
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return
        if not isinstance(node, yaml.MappingNode):
            raise SystemExit(f"{rel(path)}: not a mapping of variables")
        lines = text.splitlines()
        for key, value in node.value:
            name = key.value
            self.values[name] = yaml.safe_load(yaml.serialize(value))
            self.literal[name] = literal(value, text)
            self.commented[name] = has_comment(lines, key.start_mark.line)


def literal(node, text):
    """The value as written in the file, on one line (a block collection becomes flow style)."""
    start, end = node.start_mark, node.end_mark
    if isinstance(node, yaml.ScalarNode):
        written = text[start.index:end.index]
        if node.style in ("|", ">") or "\n" in written:
            return json.dumps(node.value)  # a valid YAML double-quoted scalar
        return written
    if start.line == end.line and text[start.index:start.index + 1] in "[{":
        return text[start.index:end.index]
    if isinstance(node, yaml.SequenceNode):
        return "[" + ", ".join(literal(item, text) for item in node.value) + "]"
    return "{" + ", ".join(f"{literal(k, text)}: {literal(v, text)}" for k, v in node.value) + "}"


def has_comment(lines, lineno):
    """A comment describes the variable at lineno, directly or for its group of consecutive variables."""
    for line in reversed(lines[:lineno]):
        stripped = line.strip()
        if not stripped or stripped == "---":
            return False
        if stripped.startswith("#"):
            return not re.match(r"#\s*---", stripped)  # a section rule describes nothing
    return False


def load_spec(role):
    path = role / "meta" / "argument_specs.yml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text()) or {}
    return data.get("argument_specs") or {}


def rel(path):
    return path.relative_to(ROOT)


# --- rendering --------------------------------------------------------------------

def flow(value):
    """A value (from the spec) as one line of YAML."""
    out = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    return out[:-4].strip() if out.endswith("\n...") else out


def code(text):
    """A markdown code span, safe inside a table cell."""
    text = text.replace("|", r"\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose(text):
    """Description text for a table cell: one line, pipes escaped, no accidental HTML or emphasis."""
    text = " ".join(text.split())
    parts = re.split(r"(`[^`]*`)", text)
    for i in range(0, len(parts), 2):  # outside code spans
        parts[i] = parts[i].replace("\\", "\\\\").replace("<", r"\<").replace("*", r"\*")
    return "".join(parts).replace("|", r"\|")


def describe(option):
    desc = option.get("description", "")
    if isinstance(desc, list):
        desc = " ".join(str(d) for d in desc)
    return str(desc or "").strip()


def type_of(option):
    kind = option.get("type", "str")
    if kind == "list" and option.get("elements"):
        return f"list of {option['elements']}"
    return str(kind)


def rows(options, defaults, prefix=""):
    out = []
    for name, option in options.items():
        option = option or {}
        full = prefix + name
        if not prefix and name in defaults.literal:
            default = code(defaults.literal[name])
        elif "default" in option:
            default = code(flow(option["default"]))
        else:
            default = ""
        choices = ", ".join(code(flow(c)) for c in option.get("choices") or [])
        out.append(f"| {code(full)} | {type_of(option)} | {default} | "
                   f"{'yes' if option.get('required') else 'no'} | {choices} | {prose(describe(option))} |")
        if option.get("options"):
            sub = "[]." if option.get("type") == "list" else "."
            out.extend(rows(option["options"], defaults, full + sub))
    return out


def render(spec, defaults):
    lines = [BEGIN, ""]
    main = spec.get("main") or {}
    lines += HEADER + rows(main.get("options") or {}, defaults)
    for entry, body in spec.items():
        if entry == "main":
            continue
        body = body or {}
        summary = body.get("short_description") or describe(body)
        lines += ["", f"Entry point `{entry}` (`tasks_from: {entry}`)" + (f": {prose(summary)}" if summary else ""), ""]
        options = body.get("options") or {}
        lines += HEADER + rows(options, defaults) if options else ["No options."]
    return "\n".join(lines + ["", END])


# --- the README ------------------------------------------------------------------

def find_block(text):
    """(start, end) of the generated block in text, or None."""
    start = text.find(BEGIN)
    if start < 0:
        return None
    end = text.find(END, start)
    if end < 0:
        return None
    return start, end + len(END)


def hand_table(lines):
    """(first, last+1) line numbers of the hand-written variables table, or None."""
    for i, line in enumerate(lines[:-1]):
        first_cell = line.strip().strip("|").split("|")[0].strip(" `").lower() if line.startswith("|") else ""
        if first_cell == "variable" and re.match(r"^\|[\s:|-]+\|\s*$", lines[i + 1]):
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            return i, j
    return None


def updated(text, block):
    if BEGIN in text and not find_block(text):
        raise ValueError(f"{BEGIN!r} without {END!r} after it")
    span = find_block(text)
    if span:
        return text[:span[0]] + block + text[span[1]:]
    lines = text.split("\n")
    table = hand_table(lines)
    if table:
        return "\n".join(lines[:table[0]] + [block] + lines[table[1]:])
    return text.rstrip("\n") + "\n\n## Variables\n\n" + block + "\n"


def row_name(line):
    m = re.match(r"^\| `+ ?([^`]+?) ?`+ \|", line)
    return m.group(1) if m else None


def readme_problems(where, current, expected):
    """Name what differs between the README's generated block and the expected one."""
    have = current.split("\n")
    want = expected.split("\n")
    names = []
    for line in difflib.ndiff(have, want):
        if line[:2] in ("- ", "+ "):
            name = row_name(line[2:]) or "the table's header or an entry point's heading"
            if name not in names:
                names.append(name)
    have_rows = {row_name(l) for l in have} - {None}
    want_rows = {row_name(l) for l in want} - {None}
    out = []
    for name in names:
        if name not in have_rows and name in want_rows:
            out.append(f"{where}: {name}: missing from the table")
        elif name in have_rows and name not in want_rows:
            out.append(f"{where}: {name}: in the table but not in meta/argument_specs.yml")
        elif name in want_rows:
            out.append(f"{where}: {name}: row differs from meta/argument_specs.yml and defaults/main.yml")
        else:
            out.append(f"{where}: {name} differs")
    return out


# --- checks --------------------------------------------------------------------------

def spec_problems(role, spec, defaults):
    where = f"roles/{role.name}"
    out = []
    main = (spec.get("main") or {}).get("options") or {}
    if not spec.get("main"):
        out.append(f"{where}/meta/argument_specs.yml: no `main` entry point")
    for name in defaults.values:
        if name not in main:
            out.append(f"{where}: {name}: in defaults/main.yml but not in meta/argument_specs.yml (main)")
        if not defaults.commented[name]:
            out.append(f"{where}/defaults/main.yml: {name}: no comment above it (one line: what it does, its unit)")
    for name, option in main.items():
        option = option or {}
        if name not in defaults.values and not option.get("required"):
            out.append(f"{where}: {name}: in meta/argument_specs.yml but not in defaults/main.yml "
                       "(give it a default, or mark it required: true)")
        if name in defaults.values and option.get("required"):
            out.append(f"{where}: {name}: required: true in meta/argument_specs.yml but has a default in defaults/main.yml")
        if name in defaults.values and option.get("choices"):
            value = defaults.values[name]
            values = value if option.get("type") == "list" and isinstance(value, list) else [value]
            if not (isinstance(value, str) and TEMPLATED.search(value)):
                bad = [v for v in values if v not in option["choices"]
                       and not (isinstance(v, str) and TEMPLATED.search(v))]
                if bad:
                    out.append(f"{where}: {name}: default {flow(bad[0])} is not one of its choices {flow(option['choices'])}")
    for entry, body in spec.items():
        options = (body or {}).get("options") or {}
        out += [f"{where}/meta/argument_specs.yml: {entry}: {name}: no description"
                for name, opt in walk(options) if not describe(opt or {})]
        if entry != "main":
            for name, opt in options.items():
                if name in main and type_of(opt or {}) != type_of(main[name] or {}):
                    out.append(f"{where}/meta/argument_specs.yml: {entry}: {name}: type {type_of(opt or {})} "
                               f"differs from main's {type_of(main[name] or {})}")
    return out


def walk(options, prefix=""):
    for name, opt in options.items():
        yield prefix + name, opt
        if (opt or {}).get("options"):
            yield from walk(opt["options"], prefix + name + ".")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 naming what is out of date")
    parser.add_argument("roles", nargs="*", help="role names (default: every role under roles/)")
    args = parser.parse_args()

    roles = [ROLES / r for r in args.roles] if args.roles else sorted(p for p in ROLES.iterdir() if p.is_dir())
    problems, written = [], []
    for role in roles:
        if not role.is_dir():
            problems.append(f"roles/{role.name}: no such role")
            continue
        spec = load_spec(role)
        defaults = Defaults(role / "defaults" / "main.yml")
        if spec is None:
            if defaults.values:
                problems.append(f"roles/{role.name}: has defaults but no meta/argument_specs.yml")
            continue
        problems += spec_problems(role, spec, defaults)
        readme = role / "README.md"
        block = render(spec, defaults)
        text = readme.read_text() if readme.is_file() else f"# {role.name}\n"
        if args.check:
            span = find_block(text)
            if not span:
                problems.append(f"{rel(readme)}: no generated variables table (run `make docs`)")
            elif text[span[0]:span[1]] != block:
                problems += readme_problems(rel(readme), text[span[0]:span[1]], block)
        else:
            try:
                new = updated(text, block)
            except ValueError as err:
                problems.append(f"{rel(readme)}: {err}")
                continue
            if new != text:
                readme.write_text(new)
                written.append(str(rel(readme)))

    for line in written:
        print(f"wrote {line}")
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        if args.check:
            print(f"{len(problems)} problem(s); `make docs` regenerates the README tables from the specs, "
                  "the others need an edit of defaults/main.yml or meta/argument_specs.yml", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(roles)} role READMEs match their argument specs and defaults")
    return 0


if __name__ == "__main__":
    sys.exit(main())
