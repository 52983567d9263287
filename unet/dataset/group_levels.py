"""How many folder levels {group} spans: one where the parts that differ are side by side
(the Cell Tracking Challenge's 01/ and 02/), more where they nest, as LoveDA's
Train/Urban/images_png beside Val/Rural/images_png; the group's name is then the path."""

from __future__ import annotations

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
