"""Checks of new images before any is predicted: their headers (every bad one named in one
error), and warnings on values the model's training images did not prepare it for: they are
predicted, but scaled into 8 bits by a guess, or nearly black."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from unet.cache.intensity import wider_than_8_bits
from unet.common.bad_files import raise_all
from unet.common.band_ranges import joint_of, per_band
from unet.common.bands import bands_dtype, raw_bands
from unet.common.channels import stacked_three
from unet.common.decoders import band_count, value_range
from unet.common.imageio import (
    BANDS,
    GREY_MODES,
    IMAGE_FIX,
    ImageReadError,
    image_header,
    open_image,
    pixels,
)
from unet.common.labels import MaskValueError
from unet.dataset.names import listing
from unet.infer.out_checks import mask_names

log = logging.getLogger(__name__)

# A new image has no mask to remove with it (the data set's advice, IMAGE_FIX)
NEW_IMAGE_FIX = "Replace the file, or predict without it."


def warn_unprepared_values(files: list[Path], ckpt: dict,
                           modes: Sequence[str] | None = None) -> None:
    """Name new images wider than 8 bits given to a model that learnt 8-bit images only, 8-bit
    ones given to a model that learnt wider ones, and float images in [0, 1] given to a model
    whose training images spanned far more. `modes`:
    each file's mode (image_header), where its header was read already."""
    modes = modes or [image_header(f)[0] for f in files]
    span = ckpt.get("intensity_range")
    span = joint_of(span) if per_band(span) else span  # a grey image: over the bands
    if span is not None:
        _warn_dark_floats(files, span, modes)
        _warn_narrower_than_training(files, ckpt["in_channels"] not in (1, 3), modes, span)
    elif ckpt.get("intensity") == "dataset":  # older models: not known; image: as trained
        _warn_wider_than_training(files, ckpt["in_channels"] not in (1, 3), modes)


def _warn_wider_than_training(files: list[Path], multi: bool, modes: Sequence[str]) -> None:
    """A model that learnt 8-bit images has no range of its training images to scale wider
    ones by, so each is scaled by its own, which need not be how its images were made 8-bit."""
    wide = [str(f) for f, mode in zip(files, modes, strict=True)
            if wider_than_8_bits(f, multi, mode)]
    if wide:
        log.warning("%s: wider than 8 bits (16-bit, 32-bit or float), but the model learnt "
                    "8-bit images only: each is scaled into 8 bits by its own range (from 0, "
                    "or its lowest value below 0, to its brightest), a guess; for the values "
                    "the model learnt, convert them to 8 bits as its training images were "
                    "made", listing(wide))


def _warn_narrower_than_training(files: list[Path], multi: bool, modes: Sequence[str],
                                 span: list[float]) -> None:
    """A model whose training images were wide learnt them scaled by `span`; an 8-bit image is
    read as it is (0-255), which need not be how the training images reached it."""
    eight = [str(f) for f, mode in zip(files, modes, strict=True)
             if not wider_than_8_bits(f, multi, mode)]
    if eight:
        log.warning("%s: 8-bit, but the model learnt images wider than 8 bits (16-bit, 32-bit "
                    "or float) scaled by %g to %g: 8-bit images are read as they are (0-255), "
                    "not scaled, so the same structure can reach the model at other grey "
                    "levels than it learnt; give them at the training images' depth and in "
                    "their units", listing(eight), *span)


def _warn_dark_floats(files: list[Path], span: list[float], modes: Sequence[str]) -> None:
    """Float images normalised to [0, 1] scaled by the range of training images that spanned
    255 or more (12-bit counts) reach the model within its lowest grey level: black."""
    lo, hi = span
    if hi - lo < 255:
        return
    dark = [str(f) for f, mode in zip(files, modes, strict=True) if _float_top(f, mode) <= 1]
    if dark:
        log.warning("%s: float images within [0, 1], but the model's training images spanned "
                    "%g to %g: scaled by that range, these reach the model nearly black; give "
                    "them in the training images' units", listing(dark), lo, hi)


def _float_top(path: Path, mode: str) -> float:
    """The brightest finite value of a float grey or multi-band image (its fill, NaN, left
    out); inf for any other, which is never dark. Multi-band reflectances in [0, 1] (Sentinel-2's
    scaled by 10000) were not looked at: predicted as one class without a word."""
    if mode == "F":
        return value_range(pixels(open_image(path, nodata=True)))[1]
    if mode == BANDS and bands_dtype(path).kind == "f":
        return value_range(raw_bands(path))[1]  # (H, W, N), decoded only for float bands
    return float("inf")


def warn_other_masks(files: Sequence[Path], out_dir: Path,
                     masks: dict[Path, str] | None = None) -> None:
    """Say when `out_dir` already holds masks (.png) of images other than `files`: they are
    left as they are, beside the new ones, and a run's folder then looked like its own.
    `masks`: mask_names' (paths under out_dir); where any is in a subfolder (recursive), the
    subfolders are looked through too, and paths, not names, compared."""
    if not out_dir.is_dir():
        return
    ours = set((masks or mask_names(list(files))).values())
    found = out_dir.rglob("*.png") if any("/" in m for m in ours) else out_dir.glob("*.png")
    other = sorted(n for p in found if (n := p.relative_to(out_dir).as_posix()) not in ours)
    if other:
        shown = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
        # INFO, not WARNING: predicting a file at a time into one folder (a loop) is a use
        log.info("%s already holds %d mask%s of other images (%s): left as they are, beside "
                 "the %d written now; write to an empty folder to keep the runs apart",
                 out_dir, len(other), "s" * (len(other) != 1), shown, len(files))


def _bands_of(path: Path, bands: int) -> str:
    """What a file holds, in words: its bands, or for a grey or colour file its mode."""
    if bands:
        return f"has {bands} bands"
    mode = image_header(path)[0]
    if mode in GREY_MODES:
        return "is a grey image (1 band)"
    return f"is a colour image ({mode}, 3 channels)"


def check_headers(files: list[Path], rois: list[Path | None], in_channels: int,
                  bands: bool | None = None) -> list[tuple[str, tuple[int, int]]]:
    """Each image's mode and (W, H), from one read of its header. Headers first: every file
    that cannot be opened, or of the wrong size or bands, named in one error before any mask is
    written (a file cut off mid-pixels shows only when decoded). `bands`: the model's channels
    are bands (common.channels; None: 2 or more than 3 are)."""
    bands = in_channels not in (1, 3) if bands is None else bands
    headers, errors = [], []
    for path, region in zip(files, rois, strict=True):
        try:
            headers.append(_check_header(path, region, in_channels, bands))
        except ValueError as err:  # ImageReadError, MaskValueError among them
            errors.append((str(path), as_new_image(err)))
    raise_all(errors, "new images cannot be predicted", "image(s)")
    return headers


def _check_header(path: Path, region: Path | None, in_channels: int, as_bands: bool
                  ) -> tuple[str, tuple[int, int]]:
    """One image's mode and (W, H); its region of interest's size and its bands checked."""
    header = image_header(path)
    (w, h) = header[1]
    if region is not None and image_header(region)[1] != (w, h):
        rw, rh = image_header(region)[1]
        raise MaskValueError(f"region of interest {region} is {rw}x{rh} but its image "
                             f"{path} is {w}x{h}; a region of interest must match its image")
    bands = band_count(path)  # 0: grey or colour, which a grey or colour model converts
    if not as_bands and bands:  # a hyperstack's 3 channels are no red, green and blue either
        kind = "grey" if in_channels == 1 else "red, green and blue colour"
        raise ValueError(f"{path} has {bands} bands; the model reads {in_channels} ({kind}): "
                         f"give it {kind} images as it learnt, or predict these with a model "
                         "trained on their bands")
    if as_bands and bands != in_channels and not (in_channels == 3 and stacked_three(path)):
        raise ValueError(f"{path} {_bands_of(path, bands)}; the model reads "
                         f"{in_channels} bands: give it images of the bands it learnt, "
                         "as one multi-band TIFF each (unet stack makes them from a file "
                         "per band, or per image of a pair) or ImageJ/OME hyperstacks of "
                         "their channels")
    return header


def as_new_image(err: Exception) -> Exception:
    """A data set's read error (its fix speaks of a mask) as a new image's."""
    if isinstance(err, ImageReadError) and err.fix == IMAGE_FIX:
        return ImageReadError(err.problem, NEW_IMAGE_FIX)
    return err
