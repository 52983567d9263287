"""Reading images and masks, writing mask PNGs; every decode goes through here."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from unet.common.colour import as_rgb
from unet.common.decoders import (
    ROTATED,
    UnusableImageError,
    band_count,
    bands_size,
    is_tiff,
    pil_misreads,
    read_wide,
    wide_header,
    wide_to_8_bits,
)
from unet.common.dicom import dicom_header, is_dicom, read_dicom
from unet.common.fileio import damage
from unet.common.gdal_fill import nodata_as_nan, tiff_nodata
from unet.common.levels import pyramid_level, reduced_level_fix
from unet.common.orientation import header_orientation
from unet.common.pages import refused_pages
from unet.common.pixels import pixels
from unet.common.slides import slide_message, unread_slide

BANDS = "bands"  # image_header's mode of a multi-band TIFF (bands.py)


class ImageReadError(ValueError):
    """An image or mask file could not be decoded: `problem`, then `fix`, what to do."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem}. {fix}" if fix else problem)
        self.problem, self.fix = problem, fix  # a new image to predict has other fixes


IMAGE_FIX = "Replace or remove the file (and its mask)."  # a data set's image: its mask too


# What PIL raises on a damaged file: its plugins go beyond OSError (a truncated TIFF raises
# KeyError on open, TypeError when its pages are counted).
DAMAGED = (OSError, SyntaxError, KeyError, TypeError, IndexError, EOFError, struct.error)
# PIL's "decompression bomb" guard, meant for untrusted uploads, refused images over 179
# megapixels (and warned of a DOS attack over 89): aerial tiles and slide exports are larger,
# and native-size prediction is built for them. This limit on one file takes its place.
Image.MAX_IMAGE_PIXELS = None
MAX_PIXELS = 1 << 30  # 32768 x 32768: 3 GiB to decode in RGB
GREY16 = ("I;16", "I;16B", "I;16L", "I")  # PIL modes of 16- and 32-bit grey
GREY_MODES = {"L", "LA", "1", "F", *GREY16}  # PIL modes of one band (and alpha)
# Grey with premultiplied alpha (GIMP's TIFF default): PIL keeps La, converts it only to LA
UNPREMULTIPLIED = {"La": "LA"}  # (alpha divided out, as PIL decodes colour's RGBa to RGBA)


def open_image(
    path: str | os.PathLike,
    draft_to: tuple[int, int] | None = None,
    nodata: bool = False,
    span: tuple[float, float] | None = None,
) -> Image.Image:
    """Open and fully decode an image, honouring EXIF orientation.

    draft_to (w, h): a JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale still at least
    this size (libjpeg scales in the DCT: 2-3x faster), a whole-slide pyramid at its smallest
    level at least this size (levels.py). nodata: an image (not a mask) whose GeoTIFF nodata
    value marks wide grey pixels reads them as NaN (mode F): out of the intensity range, scaled
    to the lowest grey. span: wide colour (16-bit RGB), which PIL cannot hold, is scaled into 8
    bits by this range (the data set's) as decoded, else by its own; wide grey stays wide."""
    if draft_to and (level := pyramid_level(path, draft_to)):  # 0: as before
        with named_file(path, "image", IMAGE_FIX):
            im = _from_array(read_wide(path, level), span)  # its Orientation applied
        return _with_nodata(im, path) if nodata else im
    with opened_image(path, span=span) as im:
        _one_page(im, path)
        orientation = im.getexif().get(0x0112, 1)
        if draft_to and im.format == "JPEG":
            # Stored unrotated: ask for the transposed size when EXIF turns it.
            im.draft(None, draft_to[::-1] if orientation in ROTATED else draft_to)
        try:
            im.load()  # force the decode now so truncation errors name this file
        except OSError as err:
            im = _decoded_by_tifffile(im, path, err, span)
        im = ImageOps.exif_transpose(im) if orientation != 1 else im  # it copies even at 1
    im = im.convert(UNPREMULTIPLIED[im.mode]) if im.mode in UNPREMULTIPLIED else im
    return _with_nodata(im, path) if nodata else im


def _with_nodata(im: Image.Image, path: str | os.PathLike) -> Image.Image:
    """Wide grey `im` with its GeoTIFF nodata pixels as NaN (mode F); other images as they are."""
    if im.mode in (*GREY16, "F") and (fill := tiff_nodata(path)) is not None:
        im = _from_array(nodata_as_nan(pixels(im), fill))
    return im


def _decoded_by_tifffile(
    im: Image.Image, path: str | os.PathLike, err: OSError, span: tuple[float, float] | None
) -> Image.Image:
    """A TIFF that PIL opens but its libtiff cannot decode (WebP: "decoder error -2"), through
    tifffile; anything else, or what tifffile cannot read either (damaged), keeps PIL's error."""
    if im.format != "TIFF":
        raise err
    try:
        return _from_array(read_wide(path), span)
    except Exception:  # noqa: BLE001  tifffile's and each codec's own errors: damaged
        raise err from None


@contextmanager
def opened_image(path: str | os.PathLike, what: str = "image", fix: str = IMAGE_FIX,
                 header_only: bool = False, span: tuple[float, float] | None = None
                 ) -> Iterator[Image.Image]:
    """Image.open(path) (or a DICOM file's pixels); a file that cannot be opened or decoded
    inside the block is an ImageReadError naming it (`what` it is) and what to do (`fix`).
    `header_only`: size, mode and tags alone (a file PIL misreads is not decoded through
    decoders.py). `span`: the range wide colour is scaled by (open_image)."""
    with named_file(path, what, fix), _open(path, header_only, span) as im:
        yield im


@contextmanager
def named_file(path: str | os.PathLike, what: str, fix: str) -> Iterator[None]:
    """A damaged or unusable file inside the block as an ImageReadError naming it."""
    try:
        yield
    except DAMAGED as err:
        raise ImageReadError(f"cannot read {what} {path}: {damage(path, err)}", fix) from err
    except UnusableImageError as err:
        raise ImageReadError(str(err)) from err


def _open(
    path: str | os.PathLike, header_only: bool = False, span: tuple[float, float] | None = None
) -> Image.Image:
    """Image.open, or the pixels of a file PIL cannot read or misreads (decoders.py, dicom.py);
    the size limit is checked on PIL's header, before any decode."""
    if unread_slide(path):  # a vendor's slide named in image_extensions: not one image PIL reads
        raise UnusableImageError(slide_message(path))
    if is_dicom(path):  # in the modality's units, wide values kept
        return _from_array(read_dicom(path), span)
    try:
        im = Image.open(Path(path))
    except UnidentifiedImageError:
        if not is_tiff(path):
            raise
        im = _from_array(read_wide(path), span)  # no header without tifffile's decode
        within_limit(im.size, len(im.getbands()), path)
        return im
    within_limit(im.size, len(im.getbands()), path)
    if pil_misreads(im) and not header_only:  # PIL's size and mode stand; its pixels do not
        im.close()
        return _from_array(read_wide(path), span)
    return im


def _from_array(arr: np.ndarray, span: tuple[float, float] | None = None) -> Image.Image:
    """A decoded (H, W) or (H, W, 3) array as the PIL mode that holds its values: 8-bit as L or
    RGB, 16-bit grey as I;16, other integers as I, floats as F; wider colour scaled into 8-bit
    RGB by `span` (the data set's range) or its own (one range over the channels: balanced)."""
    if arr.ndim == 3:
        if arr.dtype != np.uint8:
            arr = wide_to_8_bits(arr, span)  # scaled a block of rows at a time
        return Image.fromarray(np.ascontiguousarray(arr), mode="RGB")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255  # 1-bit, as PIL's mode 1 reads
    if arr.dtype == np.uint8:
        return Image.fromarray(arr, mode="L")
    if arr.dtype == np.uint16:  # native order: I;16 (Pillow 13 refuses mode="I;16" here)
        return Image.fromarray(arr.astype(np.uint16, copy=False))
    if arr.dtype.kind in "iu" and arr.min() >= -(2**31) and arr.max() < 2**31:
        return Image.fromarray(arr.astype(np.int32), mode="I")
    return Image.fromarray(arr.astype(np.float32), mode="F")


def within_limit(size: tuple[int, int], bands: int, path: str | os.PathLike) -> None:
    w, h = size
    if w * h > MAX_PIXELS:
        raise ImageReadError(
            f"{path} is {w}x{h} ({w * h / 1e6:.0f} megapixels), over the "
            f"{MAX_PIXELS / 1e6:.0f}-megapixel limit on one file (decoding it would take "
            f"{w * h * bands / 2**30:.1f} GiB); " + (reduced_level_fix(path, MAX_PIXELS) or
            "cut it into tiles (e.g. with `vips dzsave` or gdal_retile.py) and its mask into "
            "the same tiles, named alike"))


STACK_FORMATS = ("TIFF", "GIF", "PNG", "WEBP")  # formats whose extra pages are more images


def _one_page(im: Image.Image, path: str | os.PathLike) -> None:
    """Refuse a multi-page file (a TIFF stack, an animated GIF or PNG), else read as its first
    page alone; a whole-slide pyramid reads as that page. (A JPEG MPO's first frame: the photo.)"""
    if im.format in STACK_FORMATS and (refusal := refused_pages(im, path)):
        raise ImageReadError(refusal)


def to_model_mode(im: Image.Image, span: tuple[float, float] | None = None) -> Image.Image:
    """Convert any PIL mode to 8-bit 'L' (1 channel) or 'RGB' (3 channels); wide grey by
    `span` (the data set's range), else by its own."""
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in (*GREY16, "F"):
        return Image.fromarray(wide_to_8_bits(pixels(im), span), mode="L")
    if im.mode in ("LA", "1"):
        return im.convert("L")
    return as_rgb(im)


def read_image(path: str | os.PathLike, span: tuple[float, float] | None = None) -> np.ndarray:
    """Read an image as uint8 (H, W, C) with C = 1 or 3; wide grey scaled by `span` (the data
    set's intensity range) when given, else by its own."""
    return model_pixels(open_image(path, nodata=True, span=span), span)


def model_pixels(im: Image.Image, span: tuple[float, float] | None = None) -> np.ndarray:
    """read_image of an image `im` open_image decoded (nodata=True), its alpha still there."""
    arr = pixels(to_model_mode(im, span))
    return arr[..., None] if arr.ndim == 2 else arr


def equal_channels(rgb: np.ndarray) -> np.ndarray | None:
    """(H, W) first channel when R = G = B at every pixel (a grey picture saved as colour)."""
    r = rgb[..., 0]
    return r if np.array_equal(r, rgb[..., 1]) and np.array_equal(r, rgb[..., 2]) else None


def is_grey_image(path: str | os.PathLike) -> bool:
    """True when an image has one channel, or colour channels that are equal everywhere."""
    im = open_image(path, draft_to=(1, 1))  # JPEG: decode at 1/8 scale, enough to tell
    return im.mode in GREY_MODES or equal_channels(np.asarray(im.convert("RGB"))) is not None


def unidentified_tiff(path: str | os.PathLike) -> bool:
    """A TIFF that PIL cannot open (float16, planar or float colour): tifffile reads it."""
    if not is_tiff(path):
        return False
    try:
        with Image.open(path):
            return False
    except UnidentifiedImageError:
        return True
    except DAMAGED:
        return False  # the PIL path names it


def _tiff_header(path: str | os.PathLike) -> tuple[str, tuple[int, int]]:
    """(mode, (width, height)) of a TIFF PIL cannot open or misreads, as `_from_array` would
    give them after the decode (BANDS for a multi-band TIFF), from tifffile's header alone."""
    if band_count(path):  # the multi-band TIFFs are among these (bands.py)
        return BANDS, bands_size(path)
    with named_file(path, "image", IMAGE_FIX):
        shape, dtype = wide_header(path)
    (h, w), bands = shape[:2], shape[2] if len(shape) == 3 else 1
    within_limit((w, h), bands, path)
    if bands == 3:
        mode = "RGB"
    elif dtype in (np.bool_, np.uint8):
        mode = "L"
    else:
        mode = "I;16" if dtype == np.uint16 else "I" if dtype.kind in "iu" else "F"
    return mode, (w, h)


def image_header(path: str | os.PathLike) -> tuple[str, tuple[int, int]]:
    """(PIL mode, (width, height) after EXIF orientation), from the header only."""
    if unidentified_tiff(path):
        return _tiff_header(path)
    if is_dicom(path):  # from pydicom's header, nothing decoded
        with named_file(path, "image", IMAGE_FIX):
            return dicom_header(path)
    with opened_image(path, header_only=True) as im:
        # decoded by tifffile: its header too; so a hyperstack of channels (read as bands)
        if im.format == "TIFF" and (pil_misreads(im) or im.n_frames > 1 and band_count(path)):
            return _tiff_header(path)
        if im.format != "GIF":  # a GIF counts its frames by decoding them: open_image does
            _one_page(im, path)
        (w, h), mode = im.size, UNPREMULTIPLIED.get(im.mode, im.mode)
        if im.format == "PNG" and pil_misreads(im):  # 16-bit + alpha: decoded by imagecodecs
            mode = "I;16" if im.tile[0].args.startswith("LA") else "RGB"  # grey + alpha: grey
        turned = header_orientation(im, path) in ROTATED
        if turned and im.format == "TIFF" and (w, h) == (im.tag_v2.get(257), im.tag_v2.get(256)):
            turned = False  # Pillow reports a TIFF's size as shown (ImageLength x ImageWidth)
    return mode, ((h, w) if turned else (w, h))


def exif_orientation(path: str | os.PathLike) -> int:
    """The EXIF (or TIFF) Orientation tag of an image, 1 when it has none."""
    with opened_image(path, header_only=True) as im:
        return header_orientation(im, path)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) after EXIF orientation, read from the header only."""
    return image_header(path)[1]
