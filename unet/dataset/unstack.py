"""`unstack`: split a multi-page file (a TIFF stack) into one image file per page.

The pipeline reads one image per file and refuses stacks by name; ISBI 2012's original
download, train-volume.tif and train-labels.tif, becomes images/00.png ... and masks/00.png ...
that pair by stem.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tifffile
from PIL import ImageSequence

from unet.common.decoders import is_tiff, pil_reads_faithfully, tiff_pages
from unet.common.imageio import ImageReadError, opened_image

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
    if is_tiff(stack) and not pil_reads_faithfully(stack):  # float16, 16-bit colour, ...
        return _unstack_tiff(stack, out_dir)
    with opened_image(stack, "stack", DAMAGED_STACK) as im:
        pages, png = getattr(im, "n_frames", 1), im.mode in PNG_MODES
    names = _page_names(pages, ".png" if png else ".tif")
    _refuse_taken(out_dir, names)
    with (
        _moved_in_whole(out_dir, names) as scratch,
        opened_image(stack, "stack", DAMAGED_STACK) as im,
    ):
        for page, name in zip(ImageSequence.Iterator(im), names, strict=True):
            page.save(scratch / name, format="PNG" if png else "TIFF")
    return [out_dir / n for n in names]


def _unstack_tiff(stack: Path, out_dir: Path) -> list[Path]:
    """A stack PIL cannot read faithfully, through tifffile: each page a TIFF as stored."""
    try:
        pages = tiff_pages(stack)
    except OSError as err:
        raise ImageReadError(f"cannot read stack {stack}: {err}. {DAMAGED_STACK}") from err
    names = _page_names(len(pages), ".tif")
    _refuse_taken(out_dir, names)
    with _moved_in_whole(out_dir, names) as scratch:
        for (arr, photometric), name in zip(pages, names, strict=True):
            tifffile.imwrite(scratch / name, arr, photometric=photometric)
    return [out_dir / n for n in names]


def _page_names(pages: int, ext: str) -> list[str]:
    return [f"{k:0{len(str(pages - 1))}d}{ext}" for k in range(pages)]


def _refuse_taken(out_dir: Path, names: list[str]) -> None:
    taken = [out_dir / n for n in names if (out_dir / n).exists()]
    if taken:
        raise FileExistsError(
            f"{taken[0]} exists ({len(taken)} of the {len(names)} page files do); unstack into "
            "an empty folder, or move them away first"
        )


@contextmanager
def _moved_in_whole(out_dir: Path, names: list[str]) -> Iterator[Path]:
    """A scratch folder inside out_dir to write the pages into; they move in only when every
    one was written, so a stack that fails part way leaves nothing that looks complete."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unstack-", dir=out_dir) as scratch:
        yield Path(scratch)
        for name in names:
            os.replace(Path(scratch) / name, out_dir / name)
