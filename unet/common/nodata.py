"""A scene's no-data pixels (every band its GeoTIFF nodata value, or NaN, or its alpha 0, a
TIFF's, a PNG's or a WebP's) written into its predicted masks as the labels' ignore value
(`masks.ignore`): the model saw the fill as input 0 and gave it a class, so QGIS's area totals
counted a tilted border of fill as water."""

from __future__ import annotations

import os

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from unet.common.band_ranges import Span
from unet.common.bands import as_8_bits, band_count, bands_and_alpha
from unet.common.decoders import is_tiff, layout_of
from unet.common.fileio import atomic_path
from unet.common.gdal_fill import tags_nodata, tiff_nodata
from unet.common.imageio import IMAGE_FIX, model_pixels, named_file, open_image, within_limit

# Formats beside TIFF that GIS and drone tools export an orthomosaic's transparency to (QGIS
# "Save as image", Agisoft's PNG tiles): an alpha channel there is always alpha, no fourth band
ALPHA_FORMATS = ("PNG", "WEBP")


def image_nodata(path: str | os.PathLike, decoded: Image.Image | None = None
                 ) -> np.ndarray | None:
    """(H, W) bool, True where every band of a TIFF holds its nodata value or NaN, or its alpha
    band is 0, as the image is turned for the model; None where no pixel is. A PNG or WebP by
    its alpha alone (alpha_nodata, from `decoded` where given); any other file: None from its
    header, nothing decoded."""
    if not is_tiff(path):
        return alpha_nodata(path, decoded)
    with tifffile.TiffFile(path) as tif:  # one open for the fill value, sample type and alpha
        fill, floats = tags_nodata(tif.pages[0].tags), tif.series[0].dtype.kind == "f"
        alpha = layout_of(tif)[1]
    if fill is None and not floats and not alpha:  # nothing can mark no data: the header says
        return None
    return void_of(*bands_and_alpha(path), fill=fill)


def alpha_nodata(path: str | os.PathLike, decoded: Image.Image | None = None
                 ) -> np.ndarray | None:
    """(H, W) bool where a PNG's or WebP's alpha (or palette transparency) is 0, turned by its
    EXIF Orientation as the model sees it; None for other formats and images with no
    transparency (the header read), and, as a TIFF's, for an alpha all opaque or all clear.
    `decoded`: its open_image decode, whose alpha (to_model_mode drops it) is taken."""
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError):  # not PIL's (DICOM, a slide): read elsewhere
        return None
    with named_file(path, "image", IMAGE_FIX), im:
        if im.format not in ALPHA_FORMATS or not im.has_transparency_data:
            return None
        # PIL's own decode, turned: decoding it again cost 88 ms of a 1918x1280 RGBA PNG; a
        # 16-bit one's (imagecodecs') has no alpha left, so it is read here as before
        if decoded is None or not decoded.has_transparency_data:
            within_limit(im.size, len(im.getbands()), path)
            orientation = im.getexif().get(0x0112, 1)  # before the decode, as open_image reads it
            im.load()
            decoded = ImageOps.exif_transpose(im) if orientation != 1 else im
        rgba = decoded if "A" in decoded.getbands() else decoded.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
    return void_of(np.zeros(alpha.shape, np.uint8), alpha, fill=None)


def bands_nodata(path: str | os.PathLike, span: Span = None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """read_bands (uint8 (H, W, N)) and image_nodata of a multi-band TIFF from one decode: a
    1918x1280 scene decoded again for its sidecar cost 43 ms."""
    arr, alpha = bands_and_alpha(path)
    return as_8_bits(arr, span), void_of(arr, alpha, fill=tiff_nodata(path))


def void_of(arr: np.ndarray, alpha: np.ndarray | None = None, *, fill: float | None
            ) -> np.ndarray | None:
    """image_nodata of a scene's samples `arr` (raw_bands: (H, W[, N]), wide fills NaN already),
    its alpha band (H, W) or None, and its GeoTIFF nodata value `fill`."""
    void = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
    if fill is not None and not np.isnan(fill):
        void |= arr == fill  # an 8-bit scene's fill (0 beside an orthophoto) stays a number
    void = void.all(-1) if void.ndim == 3 else void
    clear = None if alpha is None else alpha == 0
    if clear is not None and clear.any() and not clear.all():  # all clear: a bad export, no mask
        void |= clear  # GDAL's and QGIS's mask of an orthomosaic: the ground outside the flight
    return void if void.any() else None


def png_holds(ignore: int, rgb: bool = False) -> bool:
    """Whether a mask PNG can hold masks.ignore: 0-65535 (16-bit grey), a colour mask's packed
    0xRRGGBB; a signed label set's -1 (Sen1Floods11's) it cannot."""
    return 0 <= ignore <= (0xFFFFFF if rgb else 65535)


def unholdable_fix(ignore: int) -> str:
    """The fix for a masks.ignore no mask PNG holds, as predict's masks and preprocess say it:
    the no-data pixels can be marked only with a value the PNG holds."""
    return (f"masks.ignore {ignore} (a PNG holds 0-65535): set masks.ignore to a value it holds "
            "and no class does (e.g. 255), with masks.values listing the classes and "
            f"masks.unlisted: ignore, which still skips the labels' {ignore} as a value no "
            "class lists")


def fits(mask: Image.Image, ignore: int) -> bool:
    """Whether the mask PNG's mode holds the ignore value (a 16-bit one in an 8-bit mask not)."""
    top = {"1": 1, "L": 255, "P": 255, "LA": 255, "RGB": 0xFFFFFF, "RGBA": 0xFFFFFF}
    return 0 <= ignore <= top.get(mask.mode, 65535)


def mark_nodata(mask_path: str | os.PathLike, void: np.ndarray, ignore: int) -> list[int]:
    """Rewrite a mask PNG (atomically) with `ignore` (packed 0xRRGGBB for a colour mask) where
    `void` (H, W) is True, its mode and palette kept: each band's value written, [] where its
    mode cannot hold it."""
    with Image.open(mask_path) as im:
        im.load()
    extra = {k: im.info[k] for k in ("transparency",) if k in im.info}  # a palette's alpha
    if im.mode == "1":  # 1-bit holds 0/255 alone (ignore 1 read back as 255): 8-bit grey
        im = im.convert("L")  # reads back the same 0/255, and holds the ignore value
    if not fits(im, ignore) or im.size != void.shape[::-1]:
        return []
    arr = np.array(im)
    values = [(ignore >> s) & 255 for s in (16, 8, 0)] if arr.ndim == 3 else [ignore]
    if arr.ndim == 3:  # colour: the packed value's channels (alpha, where kept, as it was)
        arr[void, :3] = values
    else:
        arr[void] = ignore
    out = Image.fromarray(arr, im.mode if im.mode != "I;16" else None)
    if im.mode == "P":  # as many colours as classes: PIL would cut the value to fewer bits
        palette = im.getpalette() or []
        out.putpalette(palette + [0] * max(0, 3 * (ignore + 1) - len(palette)))
    with atomic_path(mask_path) as tmp:
        out.save(tmp, format="PNG", **extra)
    return values


def nodata_xml(values: list[int]) -> list[str]:
    """The sidecar's lines declaring each band's no-data value, as GDAL's PAM writes them."""
    return [line for band, v in enumerate(values, 1) for line in (
        f'  <PAMRasterBand band="{band}">', f"    <NoDataValue>{v}</NoDataValue>",
        "  </PAMRasterBand>")]


def image_and_nodata(path: str | os.PathLike, span: Span = None
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """crf_image (uint8 (H, W, N) as the model saw it) and image_nodata of a scene, decoded
    once, not again for its no-data (the CRF and its tuning): a PNG's alpha from its decode."""
    if band_count(path):
        return bands_nodata(path, span)
    im = open_image(path, nodata=True, span=span)  # crf_image's decode, its alpha still there
    return model_pixels(im, span), image_nodata(path, im)
