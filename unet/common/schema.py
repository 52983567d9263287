"""Defaults from config/schema.yaml: the one place where a setting's default is written.

The settings dataclasses take their field defaults from here, so a default changed in the
schema changes the pipeline and every direct caller of the package alike.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"


# path -> (text, parse): the last parse of each schema file, kept while its text is the same.
# Keyed by the text, not mtime: one process may plan twice (Snakemake's API, a notebook) with
# the file edited between, and reading 20 kB costs microseconds where parsing costs 14 ms.
_PARSED: dict[str, tuple[str, dict]] = {}


def schema_document(path: Path = SCHEMA) -> dict:
    """The parsed schema file at `path`, parsed again only when its text changed; callers
    must not change it."""
    text = Path(path).read_text()
    kept = _PARSED.get(str(path))
    if kept is None or kept[0] != text:
        # libyaml's loader where PyYAML has it: 14 ms for the schema instead of 157 ms
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        kept = _PARSED[str(path)] = (text, yaml.load(text, Loader=loader))
    return kept[1]


def _schema() -> dict:
    if not SCHEMA.is_file():
        raise FileNotFoundError(
            f"{SCHEMA} not found: the unet package reads its defaults from the repository's "
            "config/schema.yaml; install it from a checkout (pip install -e .)"
        )
    return schema_document(SCHEMA)


def _node(path: tuple[str, ...]) -> dict:
    node = _schema()
    for key in path:
        node = node["properties"][key]
    return node


def _fill(node: dict) -> dict:
    """Every key of an object schema with its default; nested objects filled the same way.

    An object that `$ref`s a `$defs` entry gets that entry's keys too; its own `properties`
    come first (as Snakemake's validate sets them first) and so win over the shared defaults.
    """
    out: dict[str, Any] = {}
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        out.update(_fill(_schema()["$defs"][name]))
    for key, sub in node.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub and sub.get("default") == {}:
            out[key] = _fill(sub)
        elif "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out


def defaults(*path: str) -> dict[str, Any]:
    """Defaults of the config object at `path`, e.g. defaults("train", "augment")."""
    return _fill(_node(path))


def default(*path: str) -> Any:
    """The default of one key, e.g. default("crf", "tune", "max_images")."""
    return copy.deepcopy(_node(path)["default"])


def bounds(*path: str) -> tuple[float | None, float | None]:
    """(minimum, maximum) of one number setting, None where the schema sets none, e.g.
    bounds("predict", "overlap")."""
    node = _node(path)
    return node.get("minimum"), node.get("maximum")
