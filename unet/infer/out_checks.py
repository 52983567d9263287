"""The folder new images' masks go to, checked before any work: no two masks of one name, none
over the images themselves, and a folder that can be written."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from unet.common.durable import sync_files
from unet.common.fileio import temp_beside
from unet.common.stems import file_stem, without_extension

Bases = Path | Mapping[Path, Path] | None  # one folder for all images, or each image's


def mask_names(files: list[Path], base: Bases = None) -> dict[Path, str]:
    """Each image's mask, relative to the output folder: <stem>.png, or for images under `base`
    (a folder of new images read with its subfolders; for unet predict --recursive, each
    image's folder named or pattern's fixed folders) its path there as .png, the subfolders
    mirrored: s1/a/img.png and s2/b/img.png must not share one mask."""
    if base is None:
        return {f: f"{file_stem(f)}.png" for f in files}
    return {f: f"{without_extension(f.relative_to(base_of(f, base))).as_posix()}.png"
            for f in files}


def base_of(path: Path, base: Path | Mapping[Path, Path]) -> Path:
    """The folder `path`'s mask name is taken from: `base`, or its entry there."""
    return base[path] if isinstance(base, Mapping) else base


def sync_masks(out_dir: Path, names: list[str]) -> None:
    """sync_files for masks named relative to `out_dir`: each subfolder's files, then it."""
    by_folder: dict[str, list[str]] = {}
    for name in names:
        parent, _, leaf = name.rpartition("/")
        by_folder.setdefault(parent, []).append(leaf)
    for parent, leaves in by_folder.items():
        if (out_dir / parent).is_dir():
            sync_files(out_dir / parent, leaves)


def check_outputs(files: list[Path], out_dir: Path, masks: dict[Path, str] | None = None
                  ) -> None:
    """Refuse outputs that would overwrite each other, or land among the images themselves
    (`<stem>.png` would replace a PNG image, and masks beside images would be taken for
    images by the next run). Whether the folder can be written is check_writable's: a
    finished folder made read-only has nothing to write. `masks`: mask_names' (the stems')."""
    masks = masks or mask_names(files)
    by_stem: dict[str, list[str]] = {}
    for f in files:
        by_stem.setdefault(masks[f], []).append(str(f))
    twice = {s: sorted(paths) for s, paths in by_stem.items() if len(paths) > 1}
    if twice:
        clash = "; ".join(f"{', '.join(p)} would all be {s}" for s, p in sorted(twice.items()))
        apart = any(len({os.path.dirname(p) for p in paths}) > 1 for paths in twice.values())
        raise ValueError(f"images of one name would overwrite each other's mask: {clash}. "
                         "Rename one of each, or predict them into separate output folders"
                         + (" (unet predict --recursive mirrors the folders they lie in under "
                            "-o)" if apart and not any("/" in m for m in masks.values()) else ""))
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} is a file; the masks go into a folder: name one")
    if out_dir.is_symlink() and not out_dir.exists():  # mkdir said only 'File exists'
        raise FileNotFoundError(f"{out_dir} is a link to {os.readlink(out_dir)}, which does not "
                                "exist: make (or mount) that folder, or name another")
    where = _nearest(out_dir)
    if not where.is_dir():
        raise FileExistsError(f"{where} is a file: the folder {out_dir} cannot be made there")
    # Where the masks will land: a folder not made yet can still be the images' own once
    # made (new/masks/.. is new/ as soon as masks/ exists), which its own name did not show.
    landing = Path(os.path.realpath(out_dir))
    if landing.is_dir():  # each mask's own folder: -o DIR --recursive put s1/a.png over itself
        for path in files:
            if (folder := (landing / masks[path]).parent).is_dir() \
                    and os.path.samefile(path.parent, folder):
                raise FileExistsError(
                    f"{out_dir} holds the images to predict ({path.name}): their masks would "
                    "replace or mix with them; write the masks to another folder (unet "
                    "predict -o)"
                )


def check_writable(out_dir: Path) -> None:
    """Refuse an output folder that cannot be written, or made, before any work: the first
    mask's write failed with a traceback, after the model was loaded and images decoded. A
    probe file in the folder (or the nearest one above it that exists), removed at once."""
    where = _nearest(out_dir)
    try:
        temp_beside(where / "probe").unlink()
    except OSError as err:
        raise PermissionError(f"cannot write the masks into {out_dir}: {err.strerror} in "
                              f"{where}; name a folder you may write to (unet predict -o, or "
                              "the rule's results/ folder)") from err


def _nearest(out_dir: Path) -> Path:
    """The folder itself, or the nearest path above it that exists."""
    where = out_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    return where
