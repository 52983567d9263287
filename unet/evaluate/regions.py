"""Evaluation regions (evaluate.regions): unions of classes scored as one, e.g. BraTS' whole
tumour (mask values 1, 2 and 4), tumour core (1, 4) and enhancing tumour (4). A region's
scores come from each image's class confusion matrix, so no mask is read again."""

from __future__ import annotations

import logging

import numpy as np

from unet.common.labels import MaskMapping
from unet.evaluate.metrics import mean_or_none, scores_from_confusion

log = logging.getLogger(__name__)

# Copied into the summary: what a region is and which images its means count.
REGION_RULE: str = (
    "a region is the union of its classes, scored as one class against all other labelled "
    "pixels (ignored pixels stay unscored); its mean_per_image counts the images whose target "
    "or prediction holds the region and those holding no scored class, mean_positive the "
    "images whose ground truth holds it; the empty-mask convention applies as to a class, "
    "HD95 and boundary F1 too (measured per image on the union's edge, an inf HD95 counted "
    "as the image's diagonal in the means)"
)


class RegionError(ValueError):
    """An evaluate.regions entry that names no class of the data, or part of one."""


def listed(regions: dict, names: list | None) -> dict[str, list]:
    """Each region's items, a string of digits that names no class read as the mask value:
    `--config evaluate='{regions: {wt: [1, 2, 4]}}'` gives Snakemake's strings '1', '2', '4'."""
    def item(i):
        return int(i) if isinstance(i, str) and i.isdigit() and i not in (names or []) else i
    return {region: [item(i) for i in items] for region, items in regions.items()}


def region_classes(regions: dict, groups: list[list], names: list | None,
                   where: str = "the data", rgb: bool = False, ignore: int | None = None
                   ) -> dict[str, list[int]]:
    """Each region's class indices. An item is a mask value (an integer, as masks.values
    writes it) or a class name (a string: masks.names or the data's); `groups`: each class's
    values, its written value first. A value in no class, an unknown name, or a region holding
    only some values of a class of several, is refused naming evaluate.regions.<region>;
    colour masks (`rgb`) take names only; `ignore`: masks.ignore's grey value, named as such."""
    by_value = {} if rgb else {v: i for i, g in enumerate(groups) for v in g}
    out = {}
    for region, items in listed(regions, names).items():
        key, classes = f"evaluate.regions.{region}", set()
        for item in items:
            if isinstance(item, str):
                if not names or item not in names:
                    known = ", ".join(n for n in names or [] if n) or "none: set masks.names"
                    raise RegionError(f"{key}: no class of {where} is named {item!r} (names: "
                                      f"{known}); list a class name or a mask value")
                classes.add(names.index(item))
            elif item in by_value and not isinstance(item, bool):
                classes.add(by_value[item])
            elif item == ignore and not isinstance(item, bool):
                raise RegionError(f"{key}: {item} is masks.ignore, whose pixels are unscored, "
                                  "so no region holds them; leave it out")
            else:
                shown = "colours" if rgb else ", ".join(
                    str(g[0] if len(g) == 1 else g) for g in groups)
                raise RegionError(f"{key}: no class of {where} has the mask value {item} "
                                  f"(classes: {shown}); list the values the masks hold, or "
                                  "class names (masks.names; colour masks: names only)")
        for c in sorted(classes):
            part = [v for v in groups[c] if v not in items]
            if part and not (names and names[c] in items):  # a class named is whole
                raise RegionError(f"{key} lists part of class {c} (values {groups[c]}): a "
                                  f"region holds whole classes; add {part} or leave them out")
        out[region] = sorted(classes)
    return out


def region_confusion(cm: np.ndarray, classes: list[int]) -> np.ndarray:
    """(2, 2) counts, rows target and columns prediction, 0 outside the region, 1 inside."""
    inside = np.zeros(len(cm), bool)
    inside[classes] = True
    return np.array([[cm[~inside][:, ~inside].sum(), cm[~inside][:, inside].sum()],
                     [cm[inside][:, ~inside].sum(), cm[inside][:, inside].sum()]], np.int64)


def _region_scores(cms: np.ndarray, any_scored: np.ndarray, bounds: dict | None = None) -> dict:
    """One region's scores from its (N, 2, 2) per-image counts; `any_scored` (N,): the images
    whose target or prediction holds some scored class; `bounds`: (N,) hd95, boundary_f1 and
    diagonal, an inf HD95 counted as the image's diagonal in the means, as a class's."""
    per_image = [scores_from_confusion(cm) for cm in cms]
    stack = {k: np.array([s[k][1] for s in per_image]) for k in ("dice", "iou")}
    if bounds is not None:
        missed = np.isinf(bounds["hd95"])
        stack["hd95"] = np.where(missed, bounds["diagonal"], bounds["hd95"])
        stack["boundary_f1"] = bounds["boundary_f1"]
    target, predicted = cms[:, 1, :].sum(axis=1) > 0, cms[:, :, 1].sum(axis=1) > 0  # (N,)
    counted = target | predicted | ~any_scored
    counted = counted if counted.any() else np.ones_like(counted)
    glob = scores_from_confusion(cms.sum(axis=0))
    return {
        "global": {k: float(glob[k][1]) for k in ("dice", "iou", "precision", "recall")},
        "mean_per_image": {k: mean_or_none(v[counted]) for k, v in stack.items()},
        "mean_positive": {k: mean_or_none(v[target]) for k, v in stack.items()},
        **({} if bounds is None else {"hd95_penalised": int(missed.sum())}),
        "held": bool((target | predicted).any()),
        "images": {"positive": int(target.sum()), "negative": int((~target).sum()),
                   "detected": int((target & predicted).sum()),
                   "missed": int((target & ~predicted).sum()),
                   "false_positive": int((~target & predicted).sum()),
                   "true_negative": int((~target & ~predicted).sum())},
    }


def _bounds(results: list[dict], m: str, name: str) -> dict | None:
    """Region `name`'s (N,) per-image hd95, boundary_f1 and diagonals for method `m`, where
    score_image measured them (None otherwise)."""
    if not results or "regions" not in results[0]["scores"][m]:
        return None
    pairs = np.array([r["scores"][m]["regions"][name] for r in results], np.float64)  # (N, 2)
    return {"hd95": pairs[:, 0], "boundary_f1": pairs[:, 1],
            "diagonal": np.array([r["diagonal"] for r in results], np.float64)}


def summarise_regions(results: list[dict], methods: list[str], regions: dict[str, list[int]],
                      first: int = 1) -> dict:
    """Per method and region: global Dice, IoU, precision, recall (counts summed over the
    set), mean Dice, IoU, HD95 and boundary F1 per image, over the positive images, and image
    counts."""
    out = {}
    for m in methods:
        cms = [r["scores"][m]["confusion"] for r in results]
        any_scored = np.array([(cm.sum(axis=0) + cm.sum(axis=1))[first:].any() for cm in cms])
        out[m] = {name: _region_scores(np.array([region_confusion(cm, c) for cm in cms]),
                                       any_scored, _bounds(results, m, name))
                  for name, c in regions.items()}
    return out


def region_summary(results: list[dict], methods: list[str], regions: dict,
                   mapping: MaskMapping, names: list | None) -> dict:
    """summary.json's `regions`: what each region lists and holds, the rule, and each method's
    scores (`names`: the summary's class names); one log line per method and region."""
    classes = region_classes(regions, mapping.groups(), names, rgb=mapping.rgb,
                             ignore=None if mapping.rgb else mapping.ignore)
    scores = summarise_regions(results, methods, classes, mapping.scored_from)
    regions = listed(regions, names)
    for m, per_region in scores.items():
        for name, s in per_region.items():
            positive = s["mean_positive"]["dice"]
            log.info("%s: region %s Dice %.4f (global) %.4f (mean/image) %s (mean over the %d "
                     "images holding it)", m, name, s["global"]["dice"],
                     s["mean_per_image"]["dice"], "n/a" if positive is None else
                     f"{positive:.4f}", s["images"]["positive"])
    return {"listed": {k: list(v) for k, v in regions.items()}, "classes": classes,
            "rule": REGION_RULE, "methods": scores}


def check_regions(regions: dict, masks: dict) -> None:
    """At planning: each region whose items the config can answer for (mask values with
    masks.values or masks.colors, names with masks.names) against those lists; the rest are
    checked against the data's classes by evaluate_masks."""
    values, colors, names = masks.get("values"), masks.get("colors"), masks.get("names")
    lists, ignore = values or colors, masks.get("ignore")
    groups = [v if isinstance(v, list) else [v] for v in lists or []]
    for region, items in listed(regions, names).items():
        if all(names if isinstance(i, str) else lists for i in items):
            region_classes({region: items}, groups, names, "the config (masks.values, "
                           "masks.colors, masks.names)", rgb=bool(colors),
                           ignore=ignore if isinstance(ignore, int) and not colors else None)
