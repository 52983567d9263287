"""Whole-slide formats the pipeline does not read as one image, by extension, and the
conversion that makes each a tiled pyramidal TIFF, which it reads (an Aperio .svs is one)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# tifffile parses some of these, but PIL (which decodes most TIFFs here) knows neither NDPI's
# 64-bit offsets past 4 GB nor its JPEG levels wider than 65535 px, a .scn's first series may
# be the slide's overview and its tissue several regions, and the rest are no TIFF at all.
UNREAD = {".ndpi": "Hamamatsu NDPI", ".scn": "Leica SCN", ".mrxs": "3DHISTECH MIRAX",
          ".vms": "Hamamatsu VMS", ".vmu": "Hamamatsu VMU", ".bif": "Ventana BIF",
          ".czi": "Zeiss CZI", ".isyntax": "Philips iSyntax"}

CONVERT = ("convert each to a tiled pyramidal TIFF, which is read at its full resolution: "
           "`vips tiffsave SLIDE SLIDE.tif --tile --pyramid --compression jpeg --bigtiff` "
           "(or QuPath: File > Export images > OME-TIFF), with its mask at the same size and "
           "named alike")


def _kind(name: str | os.PathLike) -> str | None:
    """The whole-slide format not read that a file name (or a bare extension) ends in."""
    end = str(name).lower()
    return next((kind for ext, kind in UNREAD.items() if end.endswith(ext)), None)


def unread_slide(path: str | os.PathLike) -> bool:
    """Whether `path` is named as a whole-slide format the pipeline does not read."""
    return _kind(Path(path).name) is not None


def slide_message(path: str | os.PathLike) -> str:
    """Why the whole-slide file at `path` is refused, and the conversion."""
    kind = _kind(Path(path).name)
    return f"{path} is a {kind} whole-slide file, which the pipeline does not read: " + CONVERT


def slides_fix(names: Iterable[str | os.PathLike]) -> str:
    """The conversion, where any of `names` is a whole-slide format not read; else ''."""
    kinds = sorted({kind for n in names if (kind := _kind(n))})
    return f"{', '.join(kinds)} whole-slide files are not read: {CONVERT}" if kinds else ""
