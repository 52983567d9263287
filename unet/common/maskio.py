"""Reading and writing masks in their own values: grey levels, palette indices, packed
colours; every mask decode goes through imageio's readers."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from unet.common.decoders import is_tiff, pil_misreads
from unet.common.fileio import atomic_path
from unet.common.imageio import (
    GREY16,
    UNPREMULTIPLIED,
    ImageReadError,
    equal_channels,
    image_header,
    open_image,
    opened_image,
    pixels,
    unidentified_tiff,
)
from unet.common.levels import pyramid_level

_BAND = 1 << 18  # pixels packed or unpacked at a time: temporaries stay small


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours -> (...) uint32 0xRRGGBB, so a colour is one integer value;
    a band of pixels at a time (no wide copy of the whole image)."""
    rgb = np.asarray(rgb)
    flat = rgb.reshape(-1, 3)
    out = np.empty(len(flat), np.uint32)
    for start in range(0, len(flat), _BAND):
        part = flat[start : start + _BAND].astype(np.uint32)
        out[start : start + _BAND] = (part[:, 0] << 16) | (part[:, 1] << 8) | part[:, 2]
    return out.reshape(rgb.shape[:-1])


def unpack_rgb(packed: np.ndarray) -> np.ndarray:
    """(...) 0xRRGGBB -> (..., 3) uint8, a band of pixels at a time."""
    packed = np.asarray(packed)
    flat = packed.reshape(-1)
    out = np.empty((len(flat), 3), np.uint8)
    for start in range(0, len(flat), _BAND):
        part = flat[start : start + _BAND].astype(np.uint32)
        for i, shift in enumerate((16, 8, 0)):
            out[start : start + _BAND, i] = (part >> shift) & 0xFF
    return out.reshape(*packed.shape, 3)


COLOUR_MODES = ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV")


def read_mask_values(
    path: str | os.PathLike, soft: bool = False, level_to: tuple[int, int] | None = None,
) -> tuple[np.ndarray, bool]:
    """A mask's raw values (H, W) and whether they are packed colours.

    A float mask must hold whole numbers, unless `soft` (a threshold binarises it): then its
    values stay as they are.

    Grey levels stay grey levels (8- or 16-bit), palette indices stay indices, 1-bit masks read
    as 0/255, LA keeps its L channel; an RGB(A) file whose channels are all equal holds grey
    levels (EM tools often save grey as RGBA); only real colours become 0xRRGGBB (pack_rgb).
    `level_to` (w, h): a whole-slide pyramid's smallest level at least that size (_open).
    """
    im = _open(path, level_to)
    if im.mode in GREY16:  # uint16 (native byte order) or int32 ("I"), not widened further
        arr = pixels(im)
        return (arr.astype(np.uint16, copy=False) if arr.dtype.kind == "u" else arr), False
    if im.mode == "F":
        return (pixels(im) if soft else _whole_values(pixels(im), path)), False
    if im.mode in COLOUR_MODES:
        rgb = pixels(im.convert("RGB"))
        grey = equal_channels(rgb)
        return (grey, False) if grey is not None else (pack_rgb(rgb), True)
    if im.mode in ("LA", "PA"):
        return pixels(im)[..., 0], False
    if im.mode in ("1", "L") and white_is_zero(path):
        return 255 - pixels(im.convert("L")), False  # PIL's inversion undone: values as stored
    if im.mode == "1":
        return pixels(im.convert("L")), False
    return pixels(im), False


def _open(path: str | os.PathLike, level_to: tuple[int, int] | None) -> Image.Image:
    """A mask decoded whole, or at a whole-slide pyramid's smallest level at least `level_to`
    (PANDA's label masks: the provider's own downsample, not level 0's 16x the pixels). A
    JPEG's DCT draft is never asked for: it would blend the class values."""
    if level_to and pyramid_level(path, level_to):
        return open_image(path, draft_to=level_to)
    return open_image(path)


def white_is_zero(path: str | os.PathLike) -> bool:
    """A TIFF stored WhiteIsZero (tifffile's 1-bit bool arrays, ImageJ's binary masks with an
    inverted LUT) that PIL decodes itself: PIL shows its 8- and 1-bit values inverted, but its
    stored values are the labels (objects 1 or 255), as tifffile, scikit-image and ImageJ read
    them. What PIL misreads is decoded by tifffile, as stored already. From PIL's header alone."""
    if not is_tiff(path):
        return False
    try:
        with Image.open(path) as im:
            return im.tag_v2.get(262) == 0 and not pil_misreads(im)  # PhotometricInterpretation
    except Exception:  # noqa: BLE001  unidentified (tifffile's stored values) or damaged
        return False


def _whole_values(arr: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """A float mask's values as integers, refusing fractions (a soft or resampled mask)."""
    whole = np.isfinite(arr) & (arr == np.round(arr))
    if not whole.all():
        bad = np.unique(arr[~whole])[:4].tolist()
        raise ImageReadError(
            f"mask {path} is a float image whose values are not whole numbers (e.g. {bad}); "
            "masks hold one integer value per class: save it with class values (e.g. an 8-bit "
            "PNG of 0/255), or set masks.threshold to binarise the soft values (above it is "
            "foreground, e.g. 0.5)"
        )
    return arr.astype(np.int64)


def read_mask(
    path: str | os.PathLike, colour: bool = False, luminance: bool = False,
    ignore: int | None = None, near: int = 0, ids: bool = False,
    level_to: tuple[int, int] | None = None,
) -> np.ndarray:
    """A mask's raw values (H, W) in one value space.

    colour: every file as packed 0xRRGGBB colours (grey g becomes (g, g, g)), for colour-mask
    data sets. Otherwise grey levels as in `read_mask_values`; a file with real colours is
    refused, or read as its luminance when `luminance` (a threshold binarises by brightness),
    as is a palette file's (its indices are not brightness): there the pixels of index `ignore`
    (masks.ignore) read as `ignore`, and no others do. With `near` (masks.tolerance), a file
    whose channels differ by at most that anywhere is grey (a grey mask saved as a colour JPEG)
    and reads as its rounded brightness. `ids` (masks.threshold 0): a palette whose index 0 is
    black reads its other indices as ids, every one above 0 (an id shown black too).
    `level_to` (w, h): a whole-slide pyramid's smallest level at least that size (_open).
    """
    if colour:
        if white_is_zero(path):  # grey as stored, as (g, g, g)
            grey = read_mask_values(path, level_to=level_to)[0].astype(np.uint8)
            return pack_rgb(np.repeat(grey[..., None], 3, axis=-1))
        return pack_rgb(np.asarray(_open(path, level_to).convert("RGB")))
    if luminance and mask_palette(path) is not None:  # indices say nothing of brightness
        return _palette_luminance(path, ignore, ids)
    values, packed = read_mask_values(path, soft=luminance, level_to=level_to)
    if not packed:
        return values
    if luminance:
        del values  # the packed colours: the luminance is read from the file again
        return luminance_of(_open(path, level_to))
    spread = _channel_spread(path) if near else None
    if spread is not None and spread <= near:
        return np.rint(luminance_of(_open(path, level_to))).astype(np.uint8)
    far = f" (its channels differ by up to {spread}, beyond masks.tolerance {near})" if near else ""
    raise ImageReadError(
        f"mask {path} holds colours, but this data set's masks are grey levels{far}; list the "
        "colours in masks.colors (one per class), or set masks.threshold to binarise by "
        "brightness"
    )


def _channel_spread(path: str | os.PathLike) -> int:
    """The largest difference between a pixel's colour channels in a colour mask: JPEG's
    chroma rounding leaves a grey mask saved as RGB (Kvasir-SEG's) a few levels off grey."""
    rgb = np.asarray(open_image(path).convert("RGB"))
    spread = 0
    for start in range(0, rgb.shape[0], 256):  # rows at a time: temporaries stay small
        band = rgb[start : start + 256]
        spread = max(spread, int((band.max(axis=-1) - band.min(axis=-1)).max()))
    return spread


def luminance_of(im: Image.Image) -> np.ndarray:
    """A colour or palette image's (H, W) float32 luminance (ITU-R 601-2, PIL's weights), not
    rounded: PIL's 8-bit "L" rounds near-black colours to 0, so masks.threshold: 0 dropped the
    objects of instance ids kept in the colour channels ((1, 0, 0), (0, 0, 1): ids 1, 65536).
    PIL's "F" conversion computes (299 r + 587 g + 114 b) / 1000 in float32 (grey g gives
    exactly g), from palette entries too, about as fast as "L": a uint32 copy of the colours
    in numpy took 3-4x the time of the 8-bit read."""
    if im.mode not in ("RGB", "RGBA", "P", "PA"):  # CMYK, YCbCr, ...: as the colours show
        im = im.convert("RGB")
    return pixels(im.convert("F"))


def _palette_luminance(path: str | os.PathLike, ignore: int | None, ids: bool) -> np.ndarray:
    """A palette mask's luminance (H, W), masks.ignore's index kept as the ignore value: read
    as brightness, VOC's void border (index 255) was one more object under masks.threshold.
    With `ids`, where index 0 is black, the other indices' black pixels read just above 0."""
    im = open_image(path)
    out = luminance_of(im)
    if im.mode not in ("P", "PA") or (ignore is None and not ids):
        return out
    index = pixels(im)[..., 0] if im.mode == "PA" else pixels(im)
    if ids and tuple((im.getpalette("RGB") or [1])[:3]) == (0, 0, 0):
        # an id the palette shows black (a CVPPP leaf) is an object at threshold 0, the
        # instance labels' setting: by brightness it trained as background without a word
        out[(out <= 0) & (index != 0)] = np.nextafter(np.float32(0), np.float32(1))
    if ignore is None:
        return out
    # a colour whose brightness is the ignore value's number moves off it by the least step
    out[out == ignore] = np.nextafter(np.float32(ignore), np.float32(np.inf))
    out[index == ignore] = ignore
    return out


Alpha = tuple[int, ...] | None  # a palette's alpha per index (meta.json's mask_alpha)


def mask_palette(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The colour table of a palette mask (GIF or palette PNG) as flat (r, g, b, ...) from its
    header; None for any other mode (a TIFF that only tifffile reads has none: not decoded)."""
    return mask_header(path)[1]


def mask_header(path: str | os.PathLike) -> tuple[str, tuple[int, ...] | None, Alpha]:
    """A mask's mode (as image_header gives it), its palette (as mask_palette) and the
    palette's transparency (PNG tRNS, GIF's transparent index) as an alpha per index, from one
    read of its header: preprocess needs them of every mask."""
    if unidentified_tiff(path):
        return image_header(path)[0], None, None
    fix = "Replace or remove the file (and its image)."
    with opened_image(path, "mask", fix, header_only=True) as im:
        if pil_misreads(im):  # decoded by tifffile or imagecodecs: their mode (rare)
            return image_header(path)[0], None, None
        if im.mode not in ("P", "PA"):
            return UNPREMULTIPLIED.get(im.mode, im.mode), None, None
        # PIL's getpalette decodes the whole file first; PNG's PLTE and GIF's colour table
        # are read with the header, and tRNS before the pixels too.
        raw = im.palette.getdata() if im.palette is not None else None
        palette = list(raw[1]) if raw and raw[0] == "RGB" else im.getpalette("RGB")
        alpha = _alpha(im.info.get("transparency")) if palette else None
    return im.mode, (tuple(palette) if palette else None), alpha



def _alpha(found: object) -> tuple[int, ...] | None:
    """PIL's info['transparency'] of a palette image (alpha bytes, or the one transparent
    index) as an alpha per index."""
    if isinstance(found, bytes):
        return tuple(found)
    return (255,) * found + (0,) if isinstance(found, int) else None


def write_mask_png(
    path: str | os.PathLike,
    mask: np.ndarray,
    rgb: bool = False,
    palette: tuple[int, ...] | None = None,
    alpha: tuple[int, ...] | None = None,
    bits: int = 8,
) -> None:
    """Write a (H, W) mask as PNG, atomically: RGB for packed colours (`rgb`), a palette PNG
    with `palette` (flat r, g, b, ...; values are its indices) and `alpha` (its transparency,
    as mask_header gives it), else grey: 16-bit for a uint16 mask or a value above 255, 1-bit
    for 0/255 with `bits` 1 (the data's masks are 1-bit), 8-bit otherwise."""
    mask = np.ascontiguousarray(mask)
    extra = {}
    top = int(mask.max()) if mask.size else 0
    if rgb:
        im = Image.fromarray(unpack_rgb(mask), mode="RGB")
    elif bits == 1 and mask.dtype != np.uint16 and np.isin(mask, (0, 255)).all():
        im = Image.fromarray(mask > 0)  # mode "1": read back as 0/255, as the data's are
    elif top <= 255 and mask.dtype != np.uint16:
        # No copy when already 8-bit: a memory-mapped mask is encoded in place.
        im = Image.fromarray(mask.astype(np.uint8, copy=False), mode="L")
        if palette:
            # L becomes P, the values its indices; a palette shorter than the values would
            # make PIL write fewer bits a pixel and cut them (2 colours: 1 bit, 3 read as 1).
            im.putpalette(tuple(palette) + (0,) * max(0, 3 * (top + 1) - len(palette)))
            extra = {"transparency": bytes(alpha)} if alpha else {}
    else:
        im = Image.fromarray(mask.astype(np.uint16))  # 16-bit greyscale PNG
    with atomic_path(path) as tmp:
        im.save(tmp, format="PNG", **extra)
