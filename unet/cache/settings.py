"""How preprocess caches a data set: the target size (or native size and scale) and how mask
values become class indices, from the config's `preprocess` and `masks` sections."""

from __future__ import annotations

from dataclasses import dataclass

from unet.cache.values import packed_colours
from unet.common.schema import defaults

_M = defaults("masks")  # field defaults: config/schema.yaml
_P = defaults("preprocess")


@dataclass(frozen=True)
class PreprocessSettings:
    """Target size (or native size and scale) and how mask values become class indices."""

    width: int = _P["width"]  # mode resize: every image to width x height
    height: int = _P["height"]
    # Value of class i at position i; a tuple of values for a class of several
    mask_values: tuple[int | tuple[int, ...], ...] | None = _M["values"]
    mask_rgb: bool = False  # mask_values are packed 0xRRGGBB colours (masks.colors)
    mask_threshold: float | None = _M["threshold"]  # binarise: above it reads as the higher value
    max_mask_values: int = _M["max_values"]  # more distinct values than this looks lossy
    # Value skipped by the loss and the metrics: a grey level, or (r, g, b) for colour masks
    mask_ignore: int | tuple[int, int, int] | None = _M["ignore"]
    mode: str = _P["mode"]  # resize | native (each image its own size times scale)
    scale: float = _P["scale"]  # mode native: resize factor, aspect ratio kept
    class_names: tuple[str, ...] | None = _M["names"]  # masks.names: one per class
    mask_unlisted: bool = _M["unlisted"] == "ignore"  # values no class lists are skipped
    mask_background: bool = _M["background"]  # class 0 is background, not scored
    mask_tolerance: int = _M["tolerance"]  # values within it of a class's read as that class
    # touching objects of binarised instance labels parted in the training targets
    mask_separate: bool = _M["separate"]
    intensity: str = _P["intensity"]  # dataset | image: the range wide images are scaled by
    intensity_top: float = _P["intensity_top"]  # percentile of each image that tops the range
    intensity_bands: str = _P["intensity_bands"]  # joint | each: one range, or one per band
    # [low, high] every wide image is clipped to and scaled by (CT's window), one per band,
    # "dicom" (the DICOM files' own), or None
    intensity_window: tuple | str | None = _P["intensity_window"]

    def cached_size(self, full: tuple[int, int]) -> tuple[int, int]:
        """(w, h) an image of (w, h) `full` is cached at."""
        if self.mode != "native":
            return (self.width, self.height)
        return tuple(max(1, round(v * self.scale)) for v in full)


def settings_from_config(size: dict, masks: dict) -> PreprocessSettings:
    """PreprocessSettings from the config's `preprocess` and `masks` sections."""
    values, rgb = masks["values"], bool(masks.get("colors"))
    if rgb:  # RGB masks: a colour per class, as one 0xRRGGBB value each (or a list of them)
        values = [packed_colours(c) for c in masks["colors"]]
    return PreprocessSettings(
        width=size.get("width", _P["width"]),  # absent in mode native (unused there)
        height=size.get("height", _P["height"]),
        mask_values=tuple(tuple(v) if isinstance(v, list) else v for v in values or ()) or None,
        mask_rgb=rgb,
        mask_threshold=masks["threshold"],
        max_mask_values=masks.get("max_values", _M["max_values"]),
        mask_ignore=tuple(ignore) if isinstance(ignore := masks["ignore"], list) else ignore,
        mode=size.get("mode", _P["mode"]),
        scale=size.get("scale", _P["scale"]),
        class_names=tuple(masks["names"]) if masks.get("names") else None,
        mask_unlisted=masks.get("unlisted", _M["unlisted"]) == "ignore",
        mask_background=masks.get("background", _M["background"]),
        mask_tolerance=masks.get("tolerance", _M["tolerance"]),
        mask_separate=masks.get("separate", _M["separate"]),
        intensity=size.get("intensity", _P["intensity"]),
        intensity_top=size.get("intensity_top", _P["intensity_top"]),
        intensity_bands=size.get("intensity_bands", _P["intensity_bands"]),
        intensity_window=_window(size.get("intensity_window")),
    )


def _window(window: list | str | None) -> tuple | str | None:
    """preprocess.intensity_window as PreprocessSettings holds it: floats (a pair of them per
    band for a list of windows), or 'dicom'."""
    if isinstance(window, str) or not window:
        return window
    return tuple(_window(w) if isinstance(w, list) else float(w) for w in window)
