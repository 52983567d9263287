"""`unstack`: split a multi-page file (a TIFF stack) into one image file per page.

The pipeline reads one image per file and refuses stacks by name; ISBI 2012's original
download, train-volume.tif and train-labels.tif, becomes images/00.png ... and masks/00.png ...
that pair by stem.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from unet.common.fileio import atomic_path
from unet.common.imageio import ImageReadError

PNG_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I")  # others (float) stay TIFF


def unstack(stack: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Write each page of `stack` to `out_dir` as <k>.png (zero-padded, from 0), values and bit
    depth unchanged (float pages as .tif); returns the files. Existing files are never
    overwritten: the call refuses before writing anything."""
    stack, out_dir = Path(stack), Path(out_dir)
    if not stack.is_file():
        raise FileNotFoundError(f"{stack}: no such file")
    try:
        with Image.open(stack) as im:
            pages = getattr(im, "n_frames", 1)
            ext = ".png" if im.mode in PNG_MODES else ".tif"
            width = len(str(pages - 1))
            paths = [out_dir / f"{k:0{width}d}{ext}" for k in range(pages)]
            taken = [p for p in paths if p.exists()]
            if taken:
                raise FileExistsError(
                    f"{taken[0]} exists ({len(taken)} of the {pages} page files do); unstack "
                    "into an empty folder, or move them away first"
                )
            for page, path in zip(ImageSequence.Iterator(im), paths, strict=True):
                with atomic_path(path) as tmp:
                    page.save(tmp, format="PNG" if ext == ".png" else "TIFF")
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        if isinstance(err, FileExistsError):
            raise
        raise ImageReadError(f"cannot read {stack}: {err}") from err
    return paths
