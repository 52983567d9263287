"""Files of a data folder that its layout does not read, found when what names them (a CSV of
encodings) finds no image: the keys that read them, or the subfolders that hold no image."""

from __future__ import annotations

from pathlib import Path

from unet.common.stems import file_stem
from unet.dataset.layout import nfc, visible_files
from unet.dataset.names import listing


def ids_elsewhere_hint(folder: Path, ids: list[str], recursive: bool,
                       extensions: tuple[str, ...], section: str) -> str:
    """CSV ids (file names or stems) that are files in `folder` the layout does not read: in
    subfolders without `recursive` (SIIM-ACR's <study>/<series>/<id>.dcm) or of an extension
    not among `extensions`; the keys that read them, or '' when no id is such a file."""
    wanted = set(ids)
    found = [p for p in visible_files(folder, recursive=True)
             if nfc(p.name) in wanted or nfc(file_stem(p)) in wanted]
    if not found:
        return ""
    keys = [f"set {section}.recursive: true"] if not recursive and any(
        p.parent != folder for p in found) else []
    exts = {e.lower() for e in extensions}
    keys += [f"add {e!r} to {section}.image_extensions" for e in sorted(
        {p.suffix.lower() for p in found} - exts)]
    first = found[0].relative_to(folder)
    return (f"; {len(found)} of these ids are files in {folder.name} ({first}"
            f"{', ...' if len(found) > 1 else ''}) that it does not read: " + " and ".join(keys)
            if keys else "")


def stray_files(root: Path, absent: list[Path], folders: set[Path], section: str) -> str:
    """The files the CSV does not name that lie in subfolders holding no image it names
    (DSB's stage1_train/<id>/masks/ beside <id>/images/ under recursive), described; '' when
    none do (or every file is unnamed)."""
    stray = [p for p in absent if p.parent not in folders]
    if not folders or not stray:
        return ""
    where = sorted({str(p.parent.relative_to(root)) for p in stray})
    others = len(absent) - len(stray)
    return (f"{len(stray)} files the CSV does not name, in {len(where)} subfolders that hold "
            f"no image it names ({listing(where, 3)}): masks or other files, not images, which "
            f"{section}.rle.absent: empty would make images with empty masks"
            + (f"; {others} more beside named images" if others else ""))
