"""`unstack`: split a multi-page file (a TIFF stack) into one image file per page.

The pipeline reads one image per file and refuses stacks by name; ISBI 2012's original
download, train-volume.tif and train-labels.tif, becomes images/00.png ... and masks/00.png ...
that pair by stem.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import ImageSequence

from unet.common.imageio import opened_image

PNG_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I")  # others (float) stay TIFF
DAMAGED_STACK = "Check the file: a stack that cannot be read whole is not split at all."


def unstack(stack: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Write each page of `stack` to `out_dir` as <k>.png (zero-padded, from 0), values and bit
    depth unchanged (float pages as .tif); returns the files. All pages appear, or none:
    existing files are never overwritten, and a page that cannot be decoded stops the split
    before any file moves in."""
    stack, out_dir = Path(stack), Path(out_dir)
    if not stack.is_file():
        raise FileNotFoundError(f"{stack}: no such file")
    with opened_image(stack, "stack", DAMAGED_STACK) as im:
        pages, png = getattr(im, "n_frames", 1), im.mode in PNG_MODES
    names = [f"{k:0{len(str(pages - 1))}d}{'.png' if png else '.tif'}" for k in range(pages)]
    taken = [out_dir / n for n in names if (out_dir / n).exists()]
    if taken:
        raise FileExistsError(
            f"{taken[0]} exists ({len(taken)} of the {pages} page files do); unstack into an "
            "empty folder, or move them away first"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unstack-", dir=out_dir) as scratch:
        with opened_image(stack, "stack", DAMAGED_STACK) as im:
            for page, name in zip(ImageSequence.Iterator(im), names, strict=True):
                page.save(Path(scratch) / name, format="PNG" if png else "TIFF")
        for name in names:
            os.replace(Path(scratch) / name, out_dir / name)
    return [out_dir / n for n in names]
