"""masks.values listed as the values detection found: the same cache, so the same params.

A user who copies the detected values into the config (to name the classes, to set `ignore`)
changed preprocess's params, and so reran the cache, training and everything after it on a
byte-identical cache. meta.json records whether masks.values null gives its mapping
(`values_detected`); the rule then tracks such a list as null (tracked_masks).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from unet.cache.mapping import choose_mapping
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json
from unet.common.labels import MaskMapping, MaskValueError


def _scanned(settings: PreprocessSettings) -> bool:
    """Whether the mapping comes from a scan of the masks' values (masks.values null)."""
    return not (settings.mask_values or settings.mask_rgb or settings.mask_unlisted
                or settings.mask_threshold is not None)


def values_detected(pairs: list[dict], settings: PreprocessSettings, mapping: MaskMapping,
                    processes: int, tracked_as_null: bool) -> bool:
    """meta.json's `values_detected`: masks.values null gives `mapping` on these masks.
    Checked (a second scan) only where the rule tracks the values as null: without that, a
    later null would be a change that reruns, as it always was."""
    if _scanned(settings):
        return True
    plain = all(isinstance(v, int) for v in settings.mask_values or ())
    if not (tracked_as_null and plain) or settings.mask_rgb or settings.mask_unlisted \
            or settings.mask_threshold is not None:
        return False
    try:
        return choose_mapping(pairs, replace(settings, mask_values=None), processes) == mapping
    except MaskValueError:  # detection refuses these masks: null is no equivalent
        return False


def tracked_masks(masks: dict, meta_path: str | os.PathLike) -> dict:
    """The masks section as preprocess's params compare it: a list of masks.values that the
    cache at `meta_path` holds, made (or checked) as detection's, reads as null."""
    values, meta = masks.get("values"), Path(meta_path)
    chosen = masks.get("colors") or masks.get("threshold") is not None \
        or masks.get("unlisted") == "ignore"  # as values_detected: not detection's then
    if not values or chosen or not meta.is_file():
        return masks
    made = read_json(meta)
    same = made.get("values_detected") and made.get("class_groups") is None \
        and made.get("class_values") == values
    return {**masks, "values": None} if same else masks
