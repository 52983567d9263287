"""`restack` of a TIFF stack: page masks (`unet predict` on the pages `unet unstack STACK.tif`
split) joined back into one multi-page TIFF of the stack's page count and size, as EM label
stacks (ISBI 2012, Lucchi) and their challenges' submissions are."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import atomic_path, check_folder
from unet.common.imageio import opened_image
from unet.dataset.unstack import page_names


def restack_stack(folder: Path, reference: Path, out: Path, name: str | None) -> Path:
    """Write `folder`'s page masks (<k>.png as unstack named the pages, or <name>_<k>.png) to
    `out` as one multi-page TIFF, a page per page of `reference`, values unchanged (uint8, or
    uint16 above 255); a page missing, beyond the stack's or of another size is refused."""
    if out.suffix.lower() not in (".tif", ".tiff"):
        raise ValueError(f"-o {out}: give a .tif file name, a stack like {reference}")
    with opened_image(reference, "stack") as im:
        sizes = []  # (width, height) of each page: a page mask must match its own page
        for k in range(getattr(im, "n_frames", 1)):
            im.seek(k)
            sizes.append(im.size)
    names = page_names(len(sizes), ".png", name)
    _refuse_beyond(folder, len(sizes), name)
    pages = [_page(folder / n, size, reference, len(sizes), name)
             for n, size in zip(names, sizes, strict=True)]
    stack = np.stack(pages)  # (pages, H, W): every page of one size, as the label stack's
    stack = stack.astype(np.uint8 if stack.max() < 256 else np.uint16)
    check_folder(out.parent)
    with atomic_path(out) as tmp:
        tifffile.imwrite(tmp, stack, photometric="minisblack")
    return out


def _refuse_beyond(folder: Path, pages: int, name: str | None) -> None:
    """A deeper stack's page masks (another volume's) must not lose their last pages."""
    pattern = re.escape(name) + r"_(\d{3,})\.png" if name else r"(\d+)\.png"
    found = folder.glob(f"{glob.escape(name)}_*.png" if name else "*.png")
    beyond = sorted((int(m.group(1)), f.name) for f in found
                    if (m := re.fullmatch(pattern, f.name)) and int(m.group(1)) >= pages)
    if beyond:
        raise ValueError(f"{folder / beyond[0][1]}: {len(beyond)} page masks lie beyond the "
                         f"reference's {pages} pages: give the stack these pages were split from")


def _page(path: Path, size: tuple[int, int], reference: Path, pages: int,
          name: str | None) -> np.ndarray:
    """One page mask, (H, W) grey values, checked against its page's size."""
    if not path.is_file() and (path.parent / "masks" / path.name).is_file():
        raise FileNotFoundError(f"{path.parent} holds no page mask {path.name}, but its masks "
                                "folder does (unet predict writes the masks there): give "
                                f"{path.parent / 'masks'} as the masks' folder")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such page mask ({reference} has {pages} pages); predict every page "
            "unet unstack wrote" + ("" if name else ", or give the pages' stem with --name"))
    with Image.open(path) as im:
        if im.mode not in ("1", "L", "P", "I;16", "I"):
            raise ValueError(f"{path} is a {im.mode} mask: restack joins grey (or palette "
                             "index) masks into a label stack, not colour ones")
        if im.size != size:
            raise ValueError(f"{path} is {im.size[0]}x{im.size[1]} px, but its page of "
                             f"{reference} is {size[0]}x{size[1]}: give the stack these "
                             "pages were split from")
        return np.asarray(im)
