"""Why a file of several pages is refused, and the fix that fits what its pages are: images of
a stack (ISBI 2012's sections, a time-lapse's frames), a resolution pyramid's levels, or an
ImageJ hyperstack's z-slices, which are parts of one image. A hyperstack of channels alone
(CYX) is one image of that many bands (channel_pages); it is refused only as a mask."""

from __future__ import annotations

import os
import re

import tifffile
from PIL import Image

# ImageJ's and OME's axis letters, as said in a message; Z and C pages are parts of one image
NAMES = {"T": "{} time frames", "Z": "a z-stack of {} slices", "C": "{} channels"}
PARTS = ("Z", "C")


def pages_message(path: str | os.PathLike, sizes: list[tuple[int, int]], kind: str) -> str:
    """Why a file of several pages (their (w, h) `sizes`) is refused, and the fix: a stack is
    split into one file per page; a pyramid (pages of falling sizes, as a whole-slide image
    stores its levels) keeps only the level to train on; a hyperstack's slices or channels
    (hyperstack_message) are not images of their own."""
    n = len(sizes)
    if len(set(sizes)) > 1:
        shown = ", ".join(f"{w}x{h}" for w, h in sizes[:5]) + (", ..." if n > 5 else "")
        top = max(range(n), key=lambda k: sizes[k][0] * sizes[k][1])  # not always page 0
        return (
            f"{path} holds {n} pages of different sizes ({shown}): a resolution pyramid (a "
            "whole-slide image's levels, thumbnail or label), not a stack of slices; the "
            "pipeline reads one image per file: save the level to train on as a file of its "
            f"own (`unet unstack {path} FOLDER` writes every page; page {top} "
            f"({sizes[top][0]}x{sizes[top][1]}) is the full resolution), with its mask at the "
            "same size"
        )
    axes = page_axes(path)  # {} for a GIF or PNG, and for a TIFF without ImageJ or OME axes
    if set(axes) & set(PARTS):
        return hyperstack_message(path, axes)
    frames = f" ({axes['T']} time frames)" if axes.get("T", 1) > 1 else ""
    save = "save it with its axes, read as one image of that many bands: `tifffile.imwrite("
    if not axes and sizes[0][0] <= 4 < n:  # pages 2-4 px wide: rows of (H, W, C), C wide
        return (f"{path} holds {n} pages {sizes[0][0]} pixels wide: each row of an (H, W, C) "
                f"array of {sizes[0][0]} channels written without axes became a page; {save}"
                "path, arr, metadata={'axes': 'YXC'})`")
    return (
        f"{path} holds {n} pages (a stack{frames}); the pipeline reads one image per file: split "
        f"it with `unet unstack {path} FOLDER` (one {kind} per page, 0.{kind.lower()}, "
        f"1.{kind.lower()}, ...; a stack of masks the same way, so that pages pair by name); "
        f"if the pages are one image's channels (cytoplasm and nucleus), {save}path, arr, "
        "metadata={'axes': 'CYX'})` for an array of (channels, height, width), or an ImageJ "
        "hyperstack of channels"
    )


def whole_slide(tif: tifffile.TiffFile) -> bool:
    """A resolution pyramid the file itself declares: tifffile reads its pages as the levels of
    one 2D image (pages marked reduced-resolution, an Aperio SVS's levels) whose first page is
    the full resolution, and every other page (thumbnail, label, macro) is smaller. Read as that
    page; pages of falling sizes the file does not mark so stay refused (pages_message)."""
    series, first = tif.series[0], tif.pages[0]
    if len(series.levels) < 2 or len(series.pages) != 1 or set(series.axes) - set("YXS"):
        return False
    area = first.imagewidth * first.imagelength
    return series.pages[0].index == 0 and all(
        page.imagewidth * page.imagelength < area for page in tif.pages[1:])


def whole_slide_file(path: str | os.PathLike) -> bool:
    """whole_slide of the TIFF at `path`; False for a file tifffile cannot read."""
    try:
        with tifffile.TiffFile(path) as tif:
            return whole_slide(tif)
    except (tifffile.TiffFileError, ValueError, KeyError, IndexError, OSError):
        return False


def refused_pages(im: Image.Image, path: str | os.PathLike) -> str | None:
    """Why PIL's image `im` of several pages is refused (pages_message), or None: one page,
    or a whole-slide pyramid (whole_slide), whose first page PIL reads."""
    pages = getattr(im, "n_frames", 1)
    if pages < 2 or im.format == "TIFF" and whole_slide_file(path):
        return None
    return pages_message(path, _frame_sizes(im, pages), "PNG")


def _frame_sizes(im: Image.Image, pages: int) -> list[tuple[int, int]]:
    """Each page's (w, h): a TIFF's from its directories (no pixels read); the frames of an
    animation share the canvas size."""
    if im.format != "TIFF":
        return [im.size] * pages
    sizes = []
    for i in range(pages):
        im.seek(i)
        sizes.append(im.size)
    im.seek(0)
    return sizes


def channel_pages(tif: tifffile.TiffFile) -> int:
    """The channels of an ImageJ or OME hyperstack whose pages are one 2D image's channels
    alone (axes CYX, each page one sample: no z-slices, time frames or colour beside them),
    which bands.py reads as (H, W, C); 0 for any other file."""
    if not named_axes(tif) or len(tif.series) != 1 or len(tif.pages) < 2:
        return 0
    series = tif.series[0]
    axes = {a: n for a, n in zip(series.axes, series.shape, strict=True) if n > 1}
    return axes["C"] if set(axes) - {"Y", "X"} == {"C"} else 0


def named_axes(tif: tifffile.TiffFile) -> bool:
    """Whether the file's metadata names its axes: ImageJ's, OME's, or tifffile's own JSON
    description where it holds "axes" (`tifffile.imwrite(path, arr, metadata={"axes": "CYX"})`,
    as Python users save channels); a shaped file without them has pages tifffile calls Q."""
    if tif.is_imagej or tif.is_ome:
        return True
    shaped = tif.shaped_metadata if tif.is_shaped else None
    return bool(shaped) and "axes" in shaped[0]


def page_axes(path: str | os.PathLike) -> dict[str, int]:
    """The axes beyond Y and X (and samples) that a TIFF's pages run along, with their lengths,
    from its ImageJ or OME metadata ({} where none names them, or the file is unreadable)."""
    try:
        with tifffile.TiffFile(path) as tif:
            if not named_axes(tif):  # tifffile names plain pages Q or I
                return {}
            series = tif.series[0]
            return {a: n for a, n in zip(series.axes, series.shape, strict=True)
                    if a in "TZC" and n > 1}
    except (tifffile.TiffFileError, ValueError, KeyError, IndexError, OSError):
        return {}


def hyperstack_message(path: str | os.PathLike, axes: dict[str, int]) -> str:
    """The fix for a hyperstack of z-slices or channels (`axes`: page_axes): one 2D image of
    the slice or projection the mask was drawn on, its channels kept as pages (read as bands);
    channels alone (read as bands where an image is read) are refused as a mask."""
    shown = ", ".join(NAMES[a].format(n) for a, n in axes.items())
    what = f"an ImageJ/OME hyperstack ({shown}) whose pages are parts of one image"
    if set(axes) == {"C"}:
        return f"{path} holds {what}: it is read as an image of {axes['C']} bands, but " + \
            _mask_fix(axes["C"])
    fixes = []
    if "T" in axes:
        fixes.append("save each time frame as a file of its own")
    if "Z" in axes:
        fixes.append(f"keep the one of its {axes['Z']} slices to segment (the one its mask "
                     "was drawn on), or a projection (Fiji: Image > Stacks > Z Project...), as "
                     "a 2D file: "
                     "`unet unstack` would make each slice an image, each needing a mask")
    if "C" in axes:
        fixes.append(f"keep its {axes['C']} channels together (Fiji: Image > Duplicate... "
                     "with every channel and one slice and frame): a hyperstack of channels "
                     "alone is read as one image of that many bands, each an input channel")
    return f"{path} holds {what}; the pipeline segments one 2D image per file: " + "; ".join(fixes)


# The channels fix of hyperstack_message: a mask's channels are no input bands
_CHANNELS_FIX = re.compile(r"keep its (\d+) channels together \(Fiji.*?each an input channel")


def _mask_fix(channels: int) -> str:
    """What a mask saved as `channels` pages becomes: one label image, or a folder per class."""
    return (f"a mask is one 2D label image (each pixel its class's value): combine its "
            f"{channels} channels into one (Fiji: Image > Type > 8-bit, then File > Save As > "
            "PNG), or, where each is one class's binary mask, save each as a file in a folder "
            "of that class, the folders named in dataset.local.masks with "
            "dataset.local.mask_folders: classes")


def as_mask_message(problem: str) -> str:
    """hyperstack_message's `problem` as said of a mask: its channels (one binary mask per
    class, say) become one label image or a folder per class, not input bands."""
    return _CHANNELS_FIX.sub(lambda m: _mask_fix(int(m[1])), problem)


def bands_words(count: int) -> str:
    """A data set's image's band count (band_count) as a mixed-count refusal names it: 3 is
    only ever a hyperstack's channels, and 0 a grey or colour image."""
    if count == 3:  # beside colour's 3: said, or '3 but 3' read as a contradiction
        return "3 (an ImageJ/OME hyperstack's channels: bands, not colour)"
    return str(count) if count else "grey or colour (1 or 3)"


def colour_hyperstack_fix(counts: set[int]) -> str:
    """The way out where 3-channel hyperstacks sit beside grey or colour images (`counts`):
    channels that are red, green and blue become one RGB image; "" for other mixes."""
    if not {0, 3} <= counts:
        return ""
    return ("; a hyperstack whose 3 channels are red, green and blue is one colour image: save "
            "it as RGB (Fiji: Image > Color > Stack to RGB, then File > Save As > PNG)")
