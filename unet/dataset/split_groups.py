"""Groups named in split.test_ids, val_ids and exclude_ids: DAVIS's ImageSets list sequences."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePath
from unicodedata import normalize


def group_members(ids: list[str], groups: dict[str, str] | None) -> dict[str, list[str]]:
    """Each group's ids by its name (split.group_by's match), and a folder group (a path,
    under group_by: folder) also by its folder's own name where no other folder has it."""
    members: dict[str, list[str]] = {}
    for i in ids if groups is not None else []:
        members.setdefault(normalize("NFC", groups[i]), []).append(i)
    tails = {g: PurePath(g).name for g in members if PurePath(g).name not in ("", g)}
    count = Counter(tails.values())
    for g, tail in tails.items():
        if count[tail] == 1 and tail not in members:
            members[tail] = members[g]
    return members


def group_hint(ids: list[str], name: str, grouped: bool, key: str = "split.test_ids") -> str:
    """The fix for an entry that names no id: where ids start with it and `_` (a sequence's
    frames under '{group}'), the pattern or the group_by that names them; where it is an id
    and `_<number>` (a tile of a whole scene, as LandCover.ai's split.py names its tiles),
    that the split takes whole images."""
    if not grouped and any(i.startswith(f"{name}_") for i in ids):
        return (f"; it names a folder's frames: write '{name}_*', or set split.group_by: "
                "'^(.+)_\\d+$' and a group's name takes its frames (DAVIS's ImageSets)")
    scene, _, number = name.rpartition("_")
    if number.isdigit() and scene in ids:
        # a tile list made for cut scenes: the id would otherwise read as a typo
        return (f"; it names a tile of image '{scene}' (the id and _{number}), but the data set "
                "holds whole images and the split takes whole images: name them "
                f"(split: {{{key.removeprefix('split.')}: [{scene}]}}), or cut the images into "
                "those tiles first (LandCover.ai's split.py) and point dataset.local at them")
    return "; fix it or remove it"
