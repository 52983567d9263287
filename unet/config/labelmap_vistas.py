"""masks.labelmap from Mapillary Vistas' config_v2.0.json (or v1.2's config.json): a "labels"
list whose index is the class id the palette label PNGs hold, with a "readable" name and an
"evaluate" flag (false for void--unlabeled and the like: pixels to skip, not classes)."""

from __future__ import annotations

import json
from pathlib import Path

from unet.config.experiments import ConfigError


def vistas_rows(path: Path, labels: list) -> list[tuple[int, int, str]]:
    """(1, id, name) per evaluated label, the id its index; the name its "readable" one unless
    two labels share it (then its "name", which is unique)."""
    return _rows([_entry(path, index, label) for index, label in enumerate(labels)])


def _rows(entries: list[tuple[str, str, bool]]) -> list[tuple[int, int, str]]:
    """vistas_rows of the labels' _entry tuples."""
    readable = [r for _, r, _ in entries]
    return [(1, index, r if readable.count(r) == 1 else name)
            for index, (name, r, evaluate) in enumerate(entries) if evaluate]


def _labels(path: Path) -> list | None:
    """A Vistas config's "labels" list; None for other files (a dataset.json's object)."""
    try:
        labels = json.loads(path.read_text(encoding="utf-8-sig")).get("labels")
    except (OSError, ValueError, AttributeError):
        return None
    return labels if isinstance(labels, list) else None


def check_vistas(path: Path, masks: dict) -> None:
    """Refuse a Vistas config read with masks.background true (its id 0 is a class, Bird:
    it would go unscored), or whose labels not evaluated would be refused in every mask that
    holds them: their pixels must be skipped, by masks.unlisted: ignore (or masks.ignore
    where there is one such label)."""
    labels = _labels(path)
    if not labels:
        return
    # one read and one pass over the labels for both checks
    entries = [_entry(path, index, label) for index, label in enumerate(labels)]
    first = _rows(entries)[:1]
    if first and masks.get("background", True) and first[0][2].lower() != "background":
        raise ConfigError(f"masks.labelmap {path} lists {first[0][2]!r} ({first[0][1]}) first, "
                          "a class: Mapillary Vistas has no background, and with "
                          "masks.background true class 0 would go unscored; set "
                          "masks.background: false")
    void = [(index, name) for index, (name, _, evaluate) in enumerate(entries) if not evaluate]
    if not void or masks.get("unlisted") == "ignore":
        return
    if all(value == masks.get("ignore") for value, _ in void):
        return
    shown = ", ".join(f"{name} ({value})" for value, name in void[:6])
    more = f" and {len(void) - 6} more" if len(void) > 6 else ""
    raise ConfigError(f"masks.labelmap {path} marks {len(void)} label(s) \"evaluate\": false "
                      f"({shown}{more}): their pixels are no class to learn or score; set "
                      "masks.unlisted: ignore to skip them in the loss and the metrics")


def _entry(path: Path, index: int, label: object) -> tuple[str, str, bool]:
    """(name, readable name, evaluate) of one label; ConfigError naming the label's index."""
    ok = isinstance(label, dict) and isinstance(label.get("name"), str) and label["name"]
    if not ok:
        raise ConfigError(f"masks.labelmap {path}: label {index} {label!r} has no \"name\"; "
                          "a Mapillary Vistas config lists {\"name\": ..., \"readable\": ..., "
                          "\"color\": [r, g, b], \"evaluate\": true} per class id")
    evaluate = label.get("evaluate", True)
    if not isinstance(evaluate, bool):
        raise ConfigError(f"masks.labelmap {path}: label {index} ({label['name']}): \"evaluate\" "
                          f"is {evaluate!r}, not true or false; fix the file")
    readable = label.get("readable")
    return label["name"], readable if isinstance(readable, str) and readable else label["name"], \
        evaluate
