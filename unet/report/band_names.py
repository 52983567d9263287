"""Which band of a multi-band GeoTIFF is red, green and blue, as GDAL records it: the band's
colour interpretation (a .aux.xml sidecar's ColorInterp, the GDAL_METADATA tag's colorinterp
items, or PhotometricInterpretation RGB for the first three), else its description (Blue, Red,
NIR). The report's overlays show a B,G,R,NIR Sentinel-2 or Landsat stack in true colour.
A module of the report's own: the steps that read bands for the model do not depend on it."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import tifffile

from unet.common.band_ranges import Span
from unet.common.bands import read_bands
from unet.common.decoders import band_count
from unet.common.imageio import read_image

GDAL_METADATA = 42112  # the tag GDAL keeps its metadata items in, as XML
COLOURS = ("red", "green", "blue")
BANDS_KEY = "report.bands"


def rgb_bands(path: str | os.PathLike) -> list[int] | None:
    """0-based indices of the red, green and blue bands, where the file names each once: by
    colour interpretation first, else by description; None where it does not (the overlays
    then show the first three). Band codes alone (B2, B4) are not read: Sentinel-2's B2 is
    blue, Landsat 7's green."""
    interp, described = _gdal_items(path)
    for kind, names in (("colorinterp", interp), ("description", described)):
        found = {c: [b for b, name in names.items() if _colour_of(name, kind) == c]
                 for c in COLOURS}
        if all(len(found[c]) == 1 for c in COLOURS):
            return [found[c][0] for c in COLOURS]
    return None


def _colour_of(name: str, kind: str) -> str | None:
    """'red', 'green' or 'blue' where a colour interpretation is that colour, or a
    description holds the colour as a word ('Red', 'B4 (red)', 'red_665'); not 'Red Edge'."""
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if w]
    if kind == "colorinterp":
        return words[0] if len(words) == 1 and words[0] in COLOURS else None
    if "edge" in words or "rededge" in words:
        return None
    held = [c for c in COLOURS if c in words]
    return held[0] if len(held) == 1 else None


def _gdal_items(path: str | os.PathLike) -> tuple[dict[int, str], dict[int, str]]:
    """Each band's colour interpretation and description (0-based band: name): the TIFF's
    own (Photometric RGB, GDAL_METADATA), overridden by a .aux.xml sidecar's, as GDAL reads
    them."""
    interp: dict[int, str] = {}
    described: dict[int, str] = {}
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if page.photometric == tifffile.PHOTOMETRIC.RGB:
                interp.update(enumerate(COLOURS))
            xml = page.tags.valueof(GDAL_METADATA)
    except (OSError, ValueError, tifffile.TiffFileError):
        return interp, described  # a damaged file is named where it is read
    root = _xml_root(xml) if isinstance(xml, str) else None
    for item in root.iter("Item") if root is not None else ():
        sample, role = item.get("sample"), (item.get("role") or "").lower()
        if sample is not None and sample.isdigit() and item.text:
            into = interp if role == "colorinterp" else described if role == "description" \
                else None
            if into is not None:
                into[int(sample)] = item.text.strip()
    _sidecar(Path(f"{path}.aux.xml"), interp, described)
    return interp, described


def _sidecar(aux: Path, interp: dict[int, str], described: dict[int, str]) -> None:
    """A GDAL .aux.xml's PAMRasterBand ColorInterp and Description, into the dicts."""
    root = _xml_root(aux.read_text(errors="replace")) if aux.is_file() else None
    for band in root.iter("PAMRasterBand") if root is not None else ():
        number = band.get("band", "")
        if not number.isdigit() or int(number) < 1:
            continue
        for tag, into in (("ColorInterp", interp), ("Description", described)):
            text = band.findtext(tag)
            if text and text.strip():
                into[int(number) - 1] = text.strip()


def _xml_root(text: str) -> ET.Element | None:
    """The XML's root, or None where it does not parse (metadata that says nothing)."""
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None


def chosen_bands(bands: list[int], count: int, path: str | os.PathLike) -> list[int]:
    """report.bands (1-based, as gdalinfo and QGIS number them) as 0-based indices, checked
    against the image's `count` bands."""
    over = [b for b in bands if b > count]
    if over:
        raise ValueError(
            f"{path}: {BANDS_KEY} {bands} names band {over[0]}, but the image has {count} "
            f"band{'s' if count != 1 else ''} (numbered from 1): set {BANDS_KEY} to bands it "
            "holds, or to null for the file's own red, green and blue")
    return [b - 1 for b in bands]


def shown_image(path: str | os.PathLike, span: Span = None,
                bands: list[int] | None = None) -> np.ndarray:
    """uint8 (H, W, 1 or 3) as the report's overlays show an image (wide values scaled by
    `span`, as the model saw them): grey or colour as read; of a multi-band image its red,
    green and blue where the file names them (rgb_bands), else its first three (its first for
    two). `bands`: report.bands, 1-based, shown instead (one band: grey), of a colour image
    too."""
    if not band_count(path):
        image = read_image(path, span)
        if not bands:
            return image
        image = image if image.ndim == 3 else image[..., None]  # (H, W, 1 or 3)
        return image[..., chosen_bands(bands, image.shape[-1], path)]
    arr = read_bands(path, span)  # (H, W, N)
    if bands:
        return arr[..., chosen_bands(bands, arr.shape[-1], path)]
    order = rgb_bands(path) if arr.shape[-1] >= 3 else None
    if order and max(order) < arr.shape[-1]:
        return arr[..., order]
    return arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1]
