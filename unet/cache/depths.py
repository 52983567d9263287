"""Training images of two depths: 8-bit ones are read as they are (0-255), wider ones scaled
by the data set's range (or a window, or their own), so one structure saved at both depths
reaches the model at two grey levels. Preprocess names them; it cannot tell which depth is
right, since an 8-bit file may hold raw counts that fit in 0-255 (an int16 volume that `unet
unstack` wrote as uint8 before it kept the stored width) or an export already scaled into 8
bits."""

from __future__ import annotations

from unet.cache.intensity import wider_than_8_bits
from unet.cache.settings import PreprocessSettings
from unet.common.band_ranges import joint_of, per_band

SHOWN = 3  # files named of each depth


def mixed_depths_note(images: list[str], multi: bool, span: list | None,
                      settings: PreprocessSettings, known: dict[str, bool] | None = None
                      ) -> str | None:
    """A warning naming how many training `images` are 8-bit and how many wider, the first
    few of each, how each depth is scaled (`span`: meta.json's intensity_range) and the fix;
    None where they share one depth. `known`: whether an image is wider, where the range pass
    learnt it (its header is not read again)."""
    known = known or {}
    wide = [known[p] if p in known else wider_than_8_bits(p, multi) for p in images]
    eight = [p for p, w in zip(images, wide, strict=True) if not w]
    wider = [p for p, w in zip(images, wide, strict=True) if w]
    if not eight or not wider:
        return None
    return (
        f"{len(eight)} of {len(images)} training images are 8-bit ({_named(eight)}) and "
        f"{len(wider)} wider (16-bit, 32-bit or float: {_named(wider)}): 8-bit images are read "
        f"as they are (0-255), the wider ones {_scaled(span, settings)}, so the same structure "
        "saved at both depths reaches the model at two grey levels, and it learns two "
        "distributions. Save every image at one depth: the 8-bit ones as 16-bit where their "
        "values are in the wider ones' units (an int16 volume, or a float one of whole values, "
        "whose values fit 0-255, which `unet unstack` wrote as 8-bit before it kept the "
        "stored width: split it again), "
        "else the wider ones converted to 8 bits as the 8-bit ones were made (the same export "
        "of every image)"
    )


def _named(paths: list[str]) -> str:
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(paths[:SHOWN]) + more


def _scaled(span: list | None, settings: PreprocessSettings) -> str:
    """How the wide training images are scaled into 8 bits, in words."""
    if span is None:
        return "each by its own range (preprocess.intensity: image)"
    lo, hi = joint_of(span) if per_band(span) else span
    what = "window" if settings.intensity_window else "range"
    each = " (per band)" if per_band(span) else ""
    return f"scaled by the data set's {what}{each}, {lo:g} to {hi:g}"
