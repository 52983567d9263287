"""How many folder levels {group} spans: one where the parts that differ are side by side
(the Cell Tracking Challenge's 01/ and 02/), more where they nest, as LoveDA's
Train/Urban/images_png beside Val/Rural/images_png; the group's name is then the path."""

from __future__ import annotations

import re
from pathlib import Path

from unet.dataset.layout import GROUP, wildcard

MAX_LEVELS = 3  # Train/Urban is two; deeper nesting is a folder per image, not a part


def spread(template: str, levels: int) -> str:
    """`template` with {group} standing for `levels` folder levels."""
    return template.replace(GROUP, "/".join([GROUP] * levels))


def group_levels(root: Path, images: str) -> int:
    """The fewest levels (1 to MAX_LEVELS) at which {group} in `images` matches a folder under
    `root`: one-level layouts read as before, nested ones only where one level finds none."""
    for levels in range(1, MAX_LEVELS + 1):
        if any(d.is_dir() for d in root.glob(wildcard(spread(images, levels), GROUP))):
            return levels
    return 1


def deeper(root: Path, images: str, template: str) -> str:
    """`template` with {group} spread over as many levels as `images` takes under `root`."""
    return spread(template, group_levels(root, images)) if GROUP in images else template


def group_id(name: str) -> str:
    """A group's name in ids: its folders joined by '_' (Train/Urban: Train_Urban_1366)."""
    return name.replace("/", "_")


def hidden_deeper(root: Path, images: str, levels: int, groups: list[str]) -> list[str]:
    """Folders that match `images` with {group} deeper than `levels`, under no folder of
    `groups` (what it matched at `levels`): nested parts one stray folder higher up hides."""
    found = []
    for deep in range(levels + 1, MAX_LEVELS + 1):
        part = "/".join(["[^/]+"] * deep)
        pattern = re.compile(re.escape(images).replace(re.escape(GROUP), f"({part})"))
        for d in sorted(root.glob(wildcard(spread(images, deep), GROUP))):
            name = pattern.fullmatch(d.relative_to(root).as_posix())
            top = name and "/".join(name.group(1).split("/")[:levels])
            if top and top not in groups and d.is_dir():
                found.append(d.relative_to(root).as_posix())
    return found
