"""`unstack`: split a multi-page file (a TIFF stack) into one image file per page.

The pipeline reads one image per file and refuses stacks by name; ISBI 2012's original
download, train-volume.tif and train-labels.tif, becomes images/00.png ... and masks/00.png ...
that pair by stem (or <name>_000.png ..., so that several stacks share a folder).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import tifffile
from PIL import GifImagePlugin, Image, ImageSequence

from unet.common.decoders import is_tiff, pil_reads_faithfully, tiff_pages
from unet.common.fileio import (
    DiskFullError,
    check_folder,
    disk_errors,
    drop_scratch,
    make_folder,
    temp_dir_beside,
)
from unet.common.imageio import ImageReadError, opened_image
from unet.dataset.names import is_volume

# What a PNG page holds as read: a PNG holds at most 16 bits, unsigned, so Pillow cannot write
# "I" (32-bit signed); signed and 32-bit TIFF pages go through tifffile, as stored
PNG_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16")
DAMAGED_STACK = "Check the file: a stack that cannot be read whole is not split at all."


def unstack(stack: str | os.PathLike, out_dir: str | os.PathLike,
            name: str | None = None) -> list[Path]:
    """Write each page of `stack` to `out_dir` as <k>.png (zero-padded, from 0), or
    <name>_000.png ... as a volume's slices, values and bit depth unchanged (float pages as
    .tif); returns the files. All pages appear, or none:
    existing files are never overwritten, and a page that cannot be decoded stops the split
    before any file moves in."""
    stack, out_dir = Path(stack), Path(out_dir)
    from unet.dataset.dicom_series import is_series_folder, refuse_study_folder

    # volumes go through unet unstack's one path, which also keeps the folder's spacing.csv
    if is_volume(stack) or is_series_folder(stack):
        raise ValueError(f"{stack} is a volume: split it with `unet unstack {stack} {out_dir}` "
                         "(nifti.unstack_volumes), which records its voxel size too")
    refuse_study_folder(stack, out_dir)
    volume = next((p for p in stack.iterdir() if is_volume(p)), None) if stack.is_dir() else None
    if volume:  # slices named by case
        from unet.dataset.structure_volumes import structures_loop
        from unet.dataset.volume_notes import kind_loops, modality_loop

        loop = structures_loop(stack, out_dir) or modality_loop(stack, out_dir) \
            or kind_loops(stack, out_dir)
        raise ValueError(f"{stack} is a folder: unstack splits one volume a call; {loop}")
    if stack.is_dir():  # a folder of stacks: two stacks' pages 0.png ... would clash
        from unet.dataset.case_folders import case_folders_advice

        # BraTS2021_Training_Data/ holds case folders alone: what lies a level down
        raise ValueError(case_folders_advice(stack, out_dir) or _one_stack_a_call(stack, out_dir))
    if not stack.is_file():
        raise FileNotFoundError(f"{stack}: no such file")
    check_folder(out_dir)  # a file there, or above it, or no permission: named now
    if is_tiff(stack) and not pil_reads_faithfully(stack):  # float16, 16-bit colour, ...
        return _unstack_tiff(stack, out_dir, name)
    with _gif_frames_as_stored(), opened_image(stack, "stack", DAMAGED_STACK) as im:
        pages, mode, palette = getattr(im, "n_frames", 1), im.mode, im.getpalette()
    png = mode in PNG_MODES
    if is_tiff(stack) and not png:  # int16, int32, uint32, float: each page a TIFF as stored
        return _unstack_tiff(stack, out_dir, name)
    names = page_names(pages, ".png" if png else ".tif", name)
    refuse_taken(out_dir, names)
    try:
        with (
            _gif_frames_as_stored(),
            moved_in_whole(out_dir, names, _scratch(name)) as scratch,
            opened_image(stack, "stack", DAMAGED_STACK) as im,
        ):
            for k, (page, file) in enumerate(zip(ImageSequence.Iterator(im), names,
                                                 strict=True)):
                if page.mode != mode and mode == "P":  # a GIF frame with a colour table of its own
                    page = _palette_page(page, palette, f"page {k} of {stack}")
                with disk_errors(out_dir / file):
                    page.save(scratch / file, format="PNG" if png else "TIFF")
    except ImageReadError as err:  # opened_image takes any OSError for a damaged stack
        if isinstance(err.__cause__, DiskFullError):  # a full disk writing a page is not one
            raise err.__cause__ from None
        raise
    return [out_dir / n for n in names]


def _one_stack_a_call(folder: Path, out_dir: Path) -> str:
    """The refusal of a folder of stacks, with both fixes: a folder per stack, or one folder
    whose pages --name names by stack (EM's training and testing stacks, grouped by volume)."""
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
    first = next((p for p in files if is_tiff(p)), files[0] if files else Path("a.tif"))
    return (f"{folder} is a folder: unstack splits one stack file; run it once per stack, each "
            f"into a folder of its own (`unet unstack {folder}/{first.name} {first.stem}`), or "
            f"into one folder, its pages named by stack (`unet unstack {folder}/{first.name} "
            f"{out_dir} --name {first.stem}`)")


@contextmanager
def _gif_frames_as_stored() -> Iterator[None]:
    """GIF frames after the first as palette indices where they share the first's colour
    table: Pillow's default (GifImagePlugin.LOADING_STRATEGY) turns every later frame to RGB,
    so a stack of palette masks lost its values from page 1 on."""
    before = GifImagePlugin.LOADING_STRATEGY
    GifImagePlugin.LOADING_STRATEGY = GifImagePlugin.LoadingStrategy(1)  # RGB_AFTER_DIFFERENT_..
    try:
        yield
    finally:
        GifImagePlugin.LOADING_STRATEGY = before


def _palette_page(page: Image.Image, palette: list[int], where: str) -> Image.Image:
    """A frame Pillow gave as colours (it carries its own colour table, as Pillow writes every
    frame after the first) back to indices of the first page's palette: each colour as the
    first index listing it. A colour the first page's palette lacks is refused."""
    table = np.asarray(palette, np.int64).reshape(-1, 3) @ [65536, 256, 1]
    rgb = np.asarray(page.convert("RGB"), np.int64) @ [65536, 256, 1]
    colours, inverse = np.unique(rgb, return_inverse=True)
    first = {}
    for index, colour in enumerate(table.tolist()):
        first.setdefault(colour, index)
    missing = [c for c in colours.tolist() if c not in first]
    if missing:
        raise ImageReadError(
            f"{where} holds colour #{missing[0]:06x}, which page 0's palette lacks: its values "
            "cannot be written as indices of one palette. Save the pages with one colour "
            "table (or as a TIFF stack); nothing was written"
        )
    indices = np.asarray([first[c] for c in colours.tolist()], np.uint8)[inverse]
    out = Image.fromarray(indices.reshape(rgb.shape), "P")
    out.putpalette(palette)
    return out


def _unstack_tiff(stack: Path, out_dir: Path, name: str | None) -> list[Path]:
    """A stack PIL cannot read faithfully, through tifffile: each page a TIFF as stored."""
    try:
        pages = tiff_pages(stack)
    except OSError as err:
        raise ImageReadError(f"cannot read stack {stack}: {err}. {DAMAGED_STACK}") from err
    names = page_names(len(pages), ".tif", name)
    refuse_taken(out_dir, names)
    with moved_in_whole(out_dir, names, _scratch(name)) as scratch:
        for (arr, photometric), file in zip(pages, names, strict=True):
            with disk_errors(out_dir / file):
                tifffile.imwrite(scratch / file, arr, photometric=photometric)
    return [out_dir / n for n in names]


def slice_name(stem: str, k: int, depth: int, ext: str = ".png") -> str:
    """Slice k of a `depth`-slice volume's file name, <stem>_<k> (at least 3 digits, so that
    they sort), as unstack writes it and restack reads it back."""
    return f"{stem}_{k:0{max(3, len(str(depth - 1)))}d}{ext}"


def page_names(pages: int, ext: str = ".png", name: str | None = None) -> list[str]:
    """A stack's page files as unstack writes them and restack reads them back: <k> zero-padded
    to the last page's digits, or <name>_<k> as a volume's slices (so that stacks share a
    folder and group by volume)."""
    if name:
        return [slice_name(name, k, pages, ext) for k in range(pages)]
    return [f"{k:0{len(str(pages - 1))}d}{ext}" for k in range(pages)]


def _scratch(name: str | None) -> str:
    """The scratch folder's own name: a stack's own where named stacks share a folder."""
    return f"{SCRATCH}-{name}" if name else SCRATCH


def refuse_taken(out_dir: Path, names: list[str], what: str = "page files",
                  into: str = "unstack into") -> None:
    """Refuse, before anything is written, names already in out_dir, in the command's words
    (`what` it writes, `into` its fix: rtstruct and raw write no pages)."""
    taken = [out_dir / n for n in names if (out_dir / n).exists()]
    if taken:
        raise FileExistsError(
            f"{taken[0]} exists ({len(taken)} of the {len(names)} {what} do); {into} "
            "an empty folder, or move them away first"
        )


# The scratch folder's name inside the output folder: `.unstack.<hex>.part` (fileio's scratch)
SCRATCH = "unstack"


@contextmanager
def moved_in_whole(out_dir: Path, names: list[str], own: str = SCRATCH) -> Iterator[Path]:
    """A scratch folder inside out_dir to write the pages into; they move in only when every
    one was written, so a stack that fails part way leaves nothing that looks complete. The
    scratch a killed run left (a copy of its pages so far) is removed first: `own` names it,
    one per volume where volumes share the folder, so that one run never removes another's."""
    make_folder(out_dir)
    drop_scratch(out_dir / own)
    scratch = temp_dir_beside(out_dir / own)
    try:
        yield scratch
        for name in names:
            os.replace(scratch / name, out_dir / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
