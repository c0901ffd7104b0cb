"""Small dictionary helpers for the roles' variables."""

from ansible.errors import AnsibleFilterError


def rename_keys(mapping, names):
    """`mapping` with each key that `names` lists renamed to its value there, the other keys kept
    as they are. Two keys renamed to the same name: the later one's value wins."""
    if not isinstance(mapping, dict) or not isinstance(names, dict):
        raise AnsibleFilterError("rename_keys expects two dictionaries: the mapping and {old: new} names")
    return {names.get(key, key): value for key, value in mapping.items()}


class FilterModule:
    def filters(self):
        return {"rename_keys": rename_keys}
