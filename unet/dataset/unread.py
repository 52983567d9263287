"""Files of a data folder that its layout does not read, found when what names them (a CSV of
encodings) finds no image: the keys that read them."""

from __future__ import annotations

from pathlib import Path

from unet.common.stems import file_stem
from unet.dataset.layout import nfc, visible_files


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
