"""Intensity ranges per band (preprocess.intensity_bands: each): every band of a wide multi-band
or colour image scaled into 8 bits by a range of its own, so that a dim band (a nucleus channel
at 0-300 beside a cytoplasm one at 0-4000, blue beside near-infrared reflectances) keeps its
grey levels. A span, as the scaling functions take it, is then a list of [lo, hi] per band (the
data set's), or EACH (each image's own, per band); joint spans stay one [lo, hi] or None."""

from __future__ import annotations

from collections.abc import Callable, Sequence

EACH = "each"  # preprocess.intensity_bands' per-band value; joint (one range) is the default

Span = Sequence[float] | Sequence[Sequence[float]] | str | None


def per_band(span: Span) -> bool:
    """Whether `span` scales each band by a range of its own."""
    return span == EACH or bool(span) and isinstance(span[0], list | tuple)


def scale_of(meta: dict) -> Span:
    """The span images entering the model are scaled by, from meta.json or model.pt: their
    intensity_range, or under intensity_bands each with no range (intensity image), EACH. An
    older file, without intensity_bands, reads as joint."""
    span = meta.get("intensity_range")
    return (span or EACH) if meta.get("intensity_bands") == EACH else span


def band_ranges(span: Span, bands: int, own: Callable[[int], tuple[float, float]]
                ) -> list[tuple[float, float]]:
    """(lo, hi) for each of `bands` bands under a per-band `span`: its own (`own(k)`, the
    band's value range) under EACH, else the recorded one, whose count must match."""
    if span == EACH:
        return [own(k) for k in range(bands)]
    if len(span) != bands:
        raise ValueError(
            f"the model's intensity ranges are per band, for {len(span)} bands, but the image "
            f"holds {bands}: give it images of the bands it was trained on")
    return [(float(lo), float(hi)) for lo, hi in span]


def joint_of(span: Span) -> tuple[float, float] | None:
    """One (lo, hi) covering a per-band span's bands (for a grey image given to a model of
    bands: its one band has no band of its own); None under EACH (its own range)."""
    if span == EACH or not span:
        return None
    return min(r[0] for r in span), max(r[1] for r in span)


def in_words(span: Span) -> str:
    """A per-band span as unet info and the ONNX metadata give it: each band's [lo, hi] (bands
    counted from 1, in the image's order), or under EACH each band by its own range."""
    if span == EACH:
        return "each band by its own range, min(0, lowest) to max(1, highest)"
    return ", ".join(f"band {k + 1} to [{lo:g}, {hi:g}]" for k, (lo, hi) in enumerate(span))
