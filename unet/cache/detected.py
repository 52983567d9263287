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


# masks.values null tracked where the rule recorded null for a list whose cache detection no
# longer gives (the masks changed since): a value no config holds, so the step reruns
REDETECT = "detect (the cache was made under a list)"


def values_record(pairs: list[dict], settings: PreprocessSettings, mapping: MaskMapping,
                  processes: int, tracked_as_null: bool | None) -> dict:
    """meta.json's `values_detected`, masks.values as given (`values_listed`) and as the rule
    tracked them (`values_tracked`: null, the list, or REDETECT; `tracked_as_null` None: as
    given), which tracked_masks keeps while the cache stays the one the config makes: a rerun
    for new masks must not change it, or the next run reruns once more."""
    listed = None if settings.mask_values is None else [
        list(v) if isinstance(v, tuple) else v for v in settings.mask_values]
    as_null = listed is None if tracked_as_null is None else tracked_as_null
    tracked = None if as_null else REDETECT if listed is None else listed
    return {"values_detected": values_detected(pairs, settings, mapping, processes, as_null),
            "values_listed": listed, "values_tracked": tracked}


def _same_cache(values, made: dict) -> bool:
    """Whether masks.values `values` make the cache `made` describes (on the same masks)."""
    if values == made["values_listed"]:
        return True
    if values is None:  # made under a list: the same where detection gives it
        return bool(made.get("values_detected"))
    return made["values_listed"] is None and made.get("class_groups") is None \
        and made.get("class_values") == values


def tracked_masks(masks: dict, meta_path: str | os.PathLike) -> dict:
    """The masks section as preprocess's params compare it: masks.values that make the cache
    at `meta_path` read as that cache was tracked (a list detection gives reads as null)."""
    values, meta = masks.get("values"), Path(meta_path)
    chosen = masks.get("colors") or masks.get("threshold") is not None \
        or masks.get("unlisted") == "ignore"  # as values_detected: not detection's then
    if chosen or not meta.is_file():
        return masks
    made = read_json(meta)
    if "values_tracked" not in made:  # a cache made before the record: detection's or not
        same = values and made.get("values_detected") and made.get("class_groups") is None \
            and made.get("class_values") == values
        return {**masks, "values": None} if same else masks
    if _same_cache(values, made):
        return {**masks, "values": made["values_tracked"]}
    return {**masks, "values": REDETECT} if values is None and made["values_tracked"] is None \
        else masks
