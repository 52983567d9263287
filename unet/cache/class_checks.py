"""What the cached classes are: each class's share of the training pixels, and the checks and
warnings on them (nothing to learn, an empty validation split, stray or instance values, the
larger class as foreground, images with no labelled pixel; instance values: instance_labels)."""

from __future__ import annotations

import logging

import numpy as np

from unet.cache.foreground import foreground_note
from unet.cache.instance_labels import instance_note, two_scales_note
from unet.cache.lost_classes import (
    LEFT_OUT,
    LOST,
    MOVE,
    ROI_FIX,
    PerMask,
    Resize,
    absent_class_notes,
    left_out_note,
    regions_of,
    scored,
    size_note,
    without_lost_labels,
)
from unet.cache.settings import PreprocessSettings
from unet.common.gdal_fill import tiff_nodata
from unet.common.labels import MaskMapping, MaskValueError
from unet.dataset.names import listing

log = logging.getLogger(__name__)


def describe_classes(
    counts: np.ndarray, mapping: MaskMapping, chosen: bool, train_masks: list[str],
    train_rois: PerMask = None, resize: Resize | None = None,
) -> list[float]:
    """Each class's share of the training pixels (`counts` by class index), warning when
    class 1 is the larger one, and when values the masks were searched for (not `chosen` in
    the config) look like instance labels (one number per object). `train_rois`: each
    training mask's Regions, or None; `resize`: how they were cached, to name a size that
    keeps a class the resize lost."""
    fractions = class_fractions(counts, mapping.num_classes)
    _check_learnable(counts, mapping, train_masks, train_rois, resize)
    # listed values too: [0, 255] for ISBI's membranes made the cells the foreground unwarned
    if note := foreground_note(mapping, fractions):
        log.warning(note)
    if not chosen:
        for k, share in enumerate(fractions):
            if 0 < share < RARE:
                log.warning(
                    "class %d (value %s) covers only %.3f %% of the training pixels: if it is "
                    "no class but stray values (a lossy save, a stray brush stroke), list the "
                    "classes in masks.values (masks.unlisted: ignore skips the rest)",
                    k, mapping.labels()[k], 100 * share)
        tagged = nodata_note(mapping, train_masks)  # else two scales, else a void value
        notes = (instance_note(train_masks, mapping),
                 tagged or two_scales_note(train_masks, mapping) or void_note(mapping))
        for note in notes:
            if note:
                log.warning(note)
    return fractions


def nodata_note(mapping: MaskMapping, masks: list[str], first: int = 8) -> str | None:
    """A warning when a first training mask's GeoTIFF nodata tag names a detected value."""
    fills = [] if mapping.rgb else [(p, tiff_nodata(p)) for p in masks[:first]]  # a few tell
    for path, fill in [(p, v) for p, v in fills if v in mapping.values and v != mapping.ignore]:
        fix = (f"set masks.ignore: {fill:g}" if mapping.ignore is None else f"masks.ignore "
               f"skips {mapping.ignore}: list the other classes in masks.values, with "
               "masks.unlisted: ignore,")
        return (f"{path} marks value {fill:g} as nodata (its GeoTIFF nodata tag), but it is "
                f"trained and scored as class {mapping.values.index(fill)}: {fix} to skip those "
                "pixels in the loss and the metrics")
    return None


def void_note(mapping: MaskMapping) -> str | None:
    """A warning when the top detected value lies far above the others, as the void (border,
    unlabelled) value 255 does above VOC's class numbers 0-20: it is trained as a class."""
    values = mapping.values
    if mapping.rgb or len(values) < 3 or values[-1] not in (255, 65535):
        return None
    if values[-2] * 8 > values[-1]:
        return None
    return (f"value {values[-1]} lies far above the other values ({values[0]}-{values[-2]}) and "
            "is trained as a class of its own: if it marks borders or unlabelled pixels (VOC's "
            f"void), set masks.ignore: {values[-1]}")


def _classes(first: int, n: int) -> str:
    """Classes first..n-1 in words: "1", or "1-3"."""
    return f"{first}-{n - 1}" if n - first > 1 else f"{first}"


def _check_learnable(counts: np.ndarray, mapping: MaskMapping, train_masks: list[str],
                     rois: PerMask = None, resize: Resize | None = None) -> None:
    """Refuse training masks without a pixel of any scored class (nothing to learn, and every
    score 0/0, counted as 1.0), and warn of each class they lack (never learnt)."""
    first, n = mapping.scored_from, mapping.num_classes
    absent = [k for k in range(first, n) if not counts[k]]
    if len(absent) == n - first:
        held = _held_at_full_size(train_masks, mapping, rois)
        if held:  # and the size that keeps them, from that mask
            pos = train_masks.index(held)
            index = scored(mapping.read_index(held), rois[pos] if rois else None, held)
            keep = size_note((index >= first) & (index < n), resize, pos)
            raise MaskValueError(f"the training masks (e.g. {held}) hold class "
                                 f"{_classes(first, n)} only in objects {LOST}{keep}")
        outside = _outside_rois(train_masks, mapping, rois, "the training masks")
        if outside:
            raise MaskValueError(outside)
        other = next((r for k in absent if (r := ((resize and resize.elsewhere) or {}).get(k))),
                     None)
        hint = (f"{other} holds some: {MOVE}" if other else
                f"masks.threshold {mapping.threshold} leaves every pixel at or below it: set it "
                "between the background's value and the objects' (0/1 masks: 0)"
                if mapping.threshold is not None else
                "check masks.values against the values the masks hold")
        raise MaskValueError(
            f"the training masks (e.g. {train_masks[0]}) hold no pixel of class "
            f"{_classes(first, n)} (values "
            f"{', '.join(mapping.labels()[first:n])}): there is nothing to learn; {hint}"
        )
    # Class 0 too: masks all foreground train a model that never predicts the background.
    absent = [k for k in range(n) if not counts[k]]
    if absent:  # the masks at full size say why: the resize, the regions of interest, or none
        for note in absent_class_notes(absent, mapping, train_masks, rois, resize).values():
            log.warning(note)


def check_validation(split: dict, cached: dict[str, tuple], mapping: MaskMapping,
                     by_id: dict[str, dict]) -> None:
    """Refuse a validation split without a pixel of any scored class: each epoch's validation
    Dice would be 0/0, counted as 1.0 for the untrained first epoch, which would be kept.
    Warn of such a test split: its scores can say nothing of the objects. The counts are the
    cache's: where it is resized, the masks at full size are read to tell objects that the
    resize lost (too small for preprocess width x height) from masks that hold none."""
    ids, test = split["val"], split["test"]
    first, n = mapping.scored_from, mapping.num_classes
    if test and not any(cached[i][1][first:n].any() for i in test):
        masks, rois = _masks_and_rois(test, by_id)
        held = _held_at_full_size(masks, mapping, rois)
        outside = None if held else _outside_rois(masks, mapping, rois, "the test split's masks")
        if held:  # scored at full size, but the model never sees objects this small
            log.warning("the test split's masks (e.g. %s) hold class %s only in objects %s",
                        held, _classes(first, n), LOST)
        elif outside:
            log.warning(outside)
        else:
            log.warning("the test split's masks (e.g. %s) hold no pixel of class %s: each test "
                        "image's foreground score can only be 1 (nothing predicted) or 0; put "
                        "images with objects in the test split (split.test_ids, split.seed)",
                        by_id[test[0]]["mask"], _classes(first, n))
    fix = "list some in split.val_ids, or change split.seed or split.val_fraction"
    _refuse_empty(ids, "the val split's masks", fix, cached, mapping, by_id)
    for k, fold in enumerate(split.get("folds") or []):  # each fold validates its model
        _refuse_empty(fold, f"the masks of split.folds' fold {k}", "change split.seed or use "
                      "fewer split.folds", cached, mapping, by_id)


def _refuse_empty(ids: list[str], what: str, fix: str, cached: dict[str, tuple],
                  mapping: MaskMapping, by_id: dict[str, dict]) -> None:
    """Refuse validation images `ids` without a pixel of any scored class."""
    first, n = mapping.scored_from, mapping.num_classes
    if not ids or any(cached[i][1][first:n].any() for i in ids):
        return
    masks, rois = _masks_and_rois(ids, by_id)
    held = _held_at_full_size(masks, mapping, rois)
    outside = None if held else _outside_rois(masks, mapping, rois, what)
    if outside:
        raise MaskValueError(outside)
    how = (f"hold class {_classes(first, n)} only in objects {LOST}; validation runs on the "
           "cache, so it" if held else f"hold no pixel of class {_classes(first, n)}: validation")
    raise MaskValueError(
        f"{what} (e.g. {held or by_id[ids[0]]['mask']}) {how} could not tell a trained model "
        f"from an untrained one. Put images with objects in validation: {fix}"
    )


def _masks_and_rois(ids: list[str], by_id: dict[str, dict]) -> tuple[list[str], list]:
    """The mask files of `ids` and their regions of interest (None where an image has none)."""
    return [by_id[i]["mask"] for i in ids], [regions_of(by_id[i]) for i in ids]


def _held_at_full_size(masks: list[str], mapping: MaskMapping,
                       rois: PerMask = None) -> str | None:
    """The first of `masks` whose file holds a scored class's pixel where the cache keeps it
    (inside its region of interest and outside its region to ignore: `rois`), or None."""
    first, n = mapping.scored_from, mapping.num_classes
    for path, roi in zip(masks, rois or [None] * len(masks), strict=True):
        index = scored(mapping.read_index(path), roi, path)
        if ((index >= first) & (index < n)).any():
            return path
    return None


def _outside_rois(masks: list[str], mapping: MaskMapping, rois: PerMask, what: str) -> str | None:
    """Where `masks` hold scored classes only outside their regions of interest: a sentence
    naming a mask that holds one and its region's file (inverted or blank: no object left
    inside), else None. `what` is the sentence's subject, e.g. "the val split's masks"."""
    pairs = [(m, r) for m, r in zip(masks, rois or [None] * len(masks), strict=True) if r]
    found = _held_at_full_size([m for m, _ in pairs], mapping)
    if found is None:
        return None
    return (f"{what} (e.g. {found}) hold class {_classes(mapping.scored_from, mapping.num_classes)}"
            f" only {left_out_note(dict(pairs)[found])}")


def _why_unlabelled(ids: list[str], mapping: MaskMapping, by_id: dict[str, dict]
                    ) -> tuple[str, str]:
    """Why images `ids` hold no labelled pixel, as the settings that skip pixels say (every
    value skipped by masks.ignore or masks.unlisted, or outside its region of interest), and
    the first one's mask and region-of-interest files."""
    rules = (["masks.ignore"] if mapping.ignore is not None else []) + (
        ["masks.unlisted: ignore"] if mapping.skip_unlisted else [])
    why = [f"every value skipped by {' or '.join(rules)}"] if rules else []
    roi = by_id[ids[0]].get("roi")
    if any(by_id[i].get("roi") for i in ids):
        why.append("every labelled pixel outside its region of interest, dataset.<source>.roi")
    example = by_id[ids[0]]["mask"] + (f", region of interest {roi}" if roi else "")
    return ", or ".join(why) or "no value of a class", example


RARE = 1e-3  # a detected value on fewer of the training pixels than this: maybe stray


_PURPOSE = {"train": "learn from", "val": "validate on", "test": "score"}


def unlabelled_ids(
    split: dict, cached: dict[str, tuple], mapping: MaskMapping, by_id: dict[str, dict],
    settings: PreprocessSettings | None = None,
) -> dict[str, list[str]]:
    """Per split, the images whose masks hold no pixel of any class (every value ignored),
    from each image's class counts (`cached`: id -> (digest, counts, labelled pixels at full
    size, as _cache_pair returns them)); a split made only of
    them is refused (its scores would be 0/0, counted as 1.0), the others named in a warning.
    `settings`: how they were cached, to tell labels the resize lost from masks without any."""
    out = {}
    for name, purpose in _PURPOSE.items():
        ids = split[name]
        out[name] = [i for i in ids if not cached[i][1][: mapping.num_classes].any()]
        if not out[name]:
            continue
        # labelled, but the resize missed every stroke (thin scribbles): said apart
        bare = without_lost_labels(name, purpose, out[name], len(ids), mapping, by_id, settings,
                                   cached)
        if not bare:
            continue
        skipped, example = _why_unlabelled(bare, mapping, by_id)
        if len(bare) == len(ids):
            raise MaskValueError(
                f"every mask of the {name} split has no labelled pixel ({skipped}; e.g. "
                f"{example}): there is nothing to {purpose}. Withheld "
                "labels (Cityscapes' test masks are all 0) are not ground truth: set "
                "split.test_ids to labelled images, and predict unlabelled ones with `unet "
                "predict`; or list the classes these masks hold in masks.values"
                + (f"; or, as {ROI_FIX}" if "region of interest" in skipped else "")
            )
        log.warning("%s image(s) have no labelled pixel (%s), so they are left out of %s: %s "
                    "(e.g. %s)", name, skipped, LEFT_OUT[name], listing(bare), example)
    return out


def class_fractions(counts: np.ndarray, num_classes: int) -> list[float]:
    """Each class's share of the pixels counted by class index in `counts` (256,), the
    ignored index left out."""
    total = int(counts[:num_classes].sum())
    return [float(n / total) if total else 0.0 for n in counts[:num_classes]]


def record_counts(meta: dict, cached: dict[str, tuple[str, np.ndarray]]) -> None:
    """Each split's and each fold's pixel count per class, in meta.json: training takes the
    classes its rows hold from them (unet.train.classes), not from every cached mask again."""
    def total(ids: list[str]) -> list[int]:
        counts = sum((cached[i][1] for i in ids), np.zeros(256, np.int64))
        return counts[: meta["num_classes"]].tolist()

    for entry in meta["splits"].values():
        entry["class_counts"] = total(entry["ids"])
    if meta.get("folds"):
        meta["fold_class_counts"] = [total(ids) for ids in meta["folds"]]
        _note_fold_classes(meta, cached)


def _note_fold_classes(meta: dict, cached: dict[str, tuple[str, np.ndarray]]) -> None:
    """Warn of each class that only fold k's own images hold: fold k's model trains on the
    other folds and never learns it. Fold 0's rows are the train split's, which
    describe_classes has checked, so from fold 1."""
    per_fold = np.array(meta["fold_class_counts"], np.int64)  # (folds, classes)
    for k in range(1, len(per_fold)):
        for c in np.flatnonzero((per_fold.sum(0) - per_fold[k] == 0) & (per_fold[k] > 0)):
            held = [i for i in meta["folds"][k] if cached[i][1][c]]
            log.warning(
                "class %d (value %s) is in fold %d's images only, %s: fold %d's model "
                "trains on the other folds, never learns it, and scores 0 on it; the ensemble "
                "predicts it from the other folds' models. Add images of it, or merge it into "
                "another class (masks.values)", c, meta["class_values"][c], k, listing(held, 3), k)
