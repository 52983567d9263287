"""Dropping a config section's keys by name: the one step every section's applicable() shares.
A module apart from any section's rules, so that a stage's code holds only the rules it reads."""

from __future__ import annotations

import copy
from collections.abc import Iterable


def drop_keys(section: dict, keys: Iterable[str]) -> dict:
    """A deep copy of `section` less `keys` (dotted keys are nested; a missing one is no error)."""
    out = copy.deepcopy(section)
    for key in keys:
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.get(part, {})
        node.pop(last, None)
    return out
