"""Files of a folder that `unet predict` or the workflow passes over for their extension, and
the fix to offer for them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from unet.common.slides import slides_fix
from unet.dataset.layout import visible_files


def extension_fix(folder: Path, names: Sequence, extensions: Sequence[str], cli: bool) -> str:
    """The fix for files of other extensions: for `unet predict`, which has no key, a pattern."""
    listed = ", ".join(extensions)
    if slides := slides_fix(names):
        return slides
    return (f"`unet predict` reads a folder's {listed} files: name others, e.g. '{folder}/*"
            f"{Path(names[0]).suffix}'" if cli else f"dataset.<source>.image_extensions ({listed}) "
            "lacks their extension: add it there, or name the files to `unet predict`")


def other_images(folder: Path, extensions: Sequence[str]) -> list[str]:
    """Names of the files in `folder` of an image format PIL reads (WebP, JPEG 2000, PPM, ...)
    whose extension is not among `extensions`: passed over, as a text file is."""
    listed = {e.lower() for e in extensions}
    known = set(Image.registered_extensions()) - listed
    return [p.name for p in visible_files(folder, recursive=False) if p.suffix.lower() in known]
