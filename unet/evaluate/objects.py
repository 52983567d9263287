"""evaluate.objects: object-level scores for instance data (nuclei, cells, buildings), where a
merged pair of touching objects scores a perfect pixel Dice but one object found of two."""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from unet.common.maskio import read_mask_values
from unet.evaluate.aji import AJI_RULE, aji_counts
from unet.evaluate.sbd import SBD_KEYS, SBD_RULE, best_dice_sums, image_sbd, mean_sbd
from unet.evaluate.smear import merge_smear

log = logging.getLogger(__name__)
# DSB 2018's IoU thresholds 0.5, 0.55, ..., 0.95: its score averages TP / (TP + FP + FN) over them
IOU_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))
AJI_KEYS = ("aji", "aji_plus")  # scores of (aji|aji_plus)_inter / _union (evaluate.aji)
# Copied into the summary beside the pixel scores' conventions.
OBJECTS_RULE: str = (
    "per foreground class, a true object one id drawn beside the masks (masks.separate: one "
    "annotation, whatever its parts, unless ignored pixels connect two of its parts, when each "
    "is one), else one id of the source masks within one 8-connected blob of the ground "
    "truth, where source ids with no "
    "pixel whose 4 neighbours hold the same id (anti-aliasing's 1-2 px edge greys, ids 1-2 px "
    "wide) join the id they border most in their blob, or form the blob's one object where it "
    "holds no other id; a predicted object (an 8-connected component of the method's mask, "
    "so a drawn object predicted in two parts matches one of them at most, the other FP) "
    "and a true object match when their IoU > 0.5 (so at most one match each); TP matched "
    "pairs, FP predicted objects unmatched, FN true objects unmatched; precision TP/(TP+FP), "
    "recall TP/(TP+FN), split the true objects with 2+ predicted objects each more than half "
    "inside them, merged the predicted objects covering more than half of each of 2+ true "
    "objects (the Cell Tracking Challenge's DET rule), F1 2TP/(2TP+FP+FN), mean_matched_iou "
    "over TP pairs, panoptic_quality "
    "sum of matched IoU / (TP + FP/2 + FN/2), dsb_score the mean over IoU thresholds "
    "0.5:0.05:0.95 of TP/(TP+FP+FN) (a pair counts at a threshold when its IoU exceeds it), "
    "seg the Cell Tracking Challenge's SEG, each true object's IoU with the predicted object "
    "covering more than half of it (0 where none does) averaged over the true objects; "
    f"{AJI_RULE}; {SBD_RULE}; "
    "ignored and outside-roi pixels are left out of every IoU, area and object (a band of them "
    "across an object cuts it into parts, true and predicted alike), and an object with no "
    "other pixel is not counted; an image with no true and no predicted object is not counted "
    "(images_empty), and a ratio of 0/0 is null; the set's scores are from counts summed over "
    "the counted images, dsb_score_mean_per_image the mean of their per-image DSB scores"
)
SOURCES = {"ids": "instance ids of the source masks (masks.threshold)",
           "drawn": "object ids drawn beside the masks (masks.separate)",
           "components": "8-connected components of the ground truth"}


def object_source(pair: dict, threshold: float | None) -> tuple[str, str | None]:
    """Where a pair's true objects come from (a SOURCES key) and the ids file to read: the ids
    drawn at download (`mask_objects`), else the source mask's own values where a threshold
    binarised instance labels, else none (connected components)."""
    if pair.get("mask_objects"):
        return "drawn", pair["mask_objects"]
    if threshold is not None and not pair["mask"].lower().endswith((".jpg", ".jpeg")):
        return "ids", pair["mask"]  # a JPEG's values are smeared (250..255 in one blob): no ids
    return "components", None


def read_ids(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) object ids from `path` (raw values: grey levels, packed colours, floats)."""
    ids = read_mask_values(path, soft=True)[0]
    if ids.shape != shape:
        raise ValueError(f"the object ids {path} are {ids.shape[1]}x{ids.shape[0]} but the "
                         f"ground truth is {shape[1]}x{shape[0]}; rerun download_dataset "
                         "(snakemake -R download_dataset) to draw both again")
    return ids


def _compact(ids: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) or (D, H, W) int64 labels 1..n of the distinct values of `ids` where `keep`, 0
    elsewhere."""
    out = np.zeros(ids.shape, np.int64)
    kept = ids[keep]
    if kept.dtype.kind in "ui" and kept.size and kept.min() >= 0 and kept.max() < 1 << 24:
        # a table of every id value: no sort of the pixels, as np.unique's
        present = np.bincount(kept) > 0
        table = np.cumsum(present) * present
        out[keep] = table[kept]
        return out, int(table[-1]) if table.size else 0
    values, inverse = np.unique(kept, return_inverse=True)
    out[keep] = inverse.ravel() + 1
    return out, int(values.size)


def _id_parts(ids: np.ndarray, truth: np.ndarray, drawn: np.ndarray | None = None
              ) -> tuple[np.ndarray, int]:
    """(H, W) labels 1..n of each id within each 8-connected blob of `truth` ((D, H, W): 26-):
    touching instances stay apart by id, and a binary mask's one value (0/255 under a
    threshold) parts into its blobs. Soft values (a float mask of fractions) are no ids:
    `truth`'s components. With `drawn` (the ids were drawn by the pipeline, and these the
    ignored pixels) each id is one object whatever its parts (_join_drawn); without, a part
    with no pixel whose 4 in-plane neighbours share its id (anti-aliasing's edge greys) joins
    the part it borders most (evaluate.smear)."""
    if ids.dtype.kind == "f" and not np.array_equal(ids[truth], np.round(ids[truth])):
        return _labels(truth)
    blobs, _ = _labels(truth)
    compact, n = _compact(ids, truth)
    # int64: ndimage's int32 labels times 65,537+ ids wrapped, two objects keyed as one
    parts, n_parts = _compact(blobs.astype(np.int64) * (n + 1) + compact, truth)
    if drawn is not None:
        return _join_drawn(ids, truth, parts, n_parts, compact, drawn)
    merged = merge_smear(ids, parts, n_parts, truth)
    return (parts, n_parts) if merged is None else _compact(merged, truth)


def _join_drawn(ids: np.ndarray, truth: np.ndarray, parts: np.ndarray, n: int,
                compact: np.ndarray, ignored: np.ndarray) -> tuple[np.ndarray, int]:
    """`parts` (1..n, one drawn id within one blob of `truth`) joined into one object per drawn
    id: a drawn id names one annotation, its polygons (an occluded object, a MULTIPOLYGON, an
    RLE row of several blobs) one object. An id whose parts ignored pixels connect (a band
    across it, cutting the prediction's blobs alike) keeps them apart, as does id 0 (none)."""
    at = truth.ravel()
    part = parts.ravel()[at]
    id_of = np.zeros(n + 1, np.int64)  # each part's compact id, and whether its raw id is 0
    id_of[part] = compact.ravel()[at]
    none = np.zeros(n + 1, bool)
    none[part] = ids.ravel()[at] == 0
    whole, n_whole = _labels(truth | ignored)  # the blobs a band of ignored px rejoins
    in_whole = np.zeros(n + 1, np.int64)
    in_whole[part] = whole.ravel()[at]
    # an id with 2+ parts in one such blob: ignored pixels cut it, its parts stay apart
    pair, count = np.unique(id_of[1:] * (n_whole + 1) + in_whole[1:], return_counts=True)
    cut = np.isin(id_of, pair[count > 1] // (n_whole + 1))
    keep = none | cut  # (n + 1,): parts that stay objects of their own
    key = np.where(keep, int(id_of.max(initial=0)) + np.arange(n + 1), id_of)
    return _compact(key[parts], truth)


def _labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) 8-connected component labels of `mask` (0 outside), and how many; of a (D, H, W)
    volume's 26-connected ones (diagonal neighbours, in-slice or across, are one object)."""
    labels, n = ndimage.label(mask, structure=np.ones((3,) * mask.ndim, dtype=bool))
    return labels, int(n)


def match(true: np.ndarray, n_true: int, pred: np.ndarray, n_pred: int) -> dict:
    """Counts of one image's objects, `true` and `pred` the labels (1..n, 0 none) of its scored
    pixels (1-D): the IoU of every overlapping pair from one joint histogram of (true, pred)
    label pairs, not a mask per object."""
    area_t = np.bincount(true, minlength=n_true + 1)
    area_p = np.bincount(pred, minlength=n_pred + 1)
    both = (true > 0) & (pred > 0)
    # int64 (labels are int32 without ids): a pair's joint bin, past 2**31 from 46,341 each
    key = true[both].astype(np.int64) * (n_pred + 1) + pred[both]
    if (n_true + 1) * (n_pred + 1) <= 4 * true.size + 1024:  # bins bounded by the image: count
        inter = np.bincount(key, minlength=(n_true + 1) * (n_pred + 1))
        keys = np.flatnonzero(inter)
        inter = inter[keys]
    else:  # ids too many for a table of every pair: sort the overlap pixels' keys
        keys, inter = np.unique(key, return_counts=True)
    t, p = np.divmod(keys, n_pred + 1)
    iou = inter / (area_t[t] + area_p[p] - inter)
    covers = 2 * inter > area_t[t]  # p covers more than half of t: at most one p per t
    matched = iou[iou > 0.5]
    tp = int(matched.size)
    return {"true": int(np.count_nonzero(area_t[1:])), "predicted": int(np.count_nonzero(
        area_p[1:])), "tp": tp, "fp": int(np.count_nonzero(area_p[1:])) - tp,
        "fn": int(np.count_nonzero(area_t[1:])) - tp, **_split_merged(t, p, inter, area_p,
                                                                       covers),
        "iou_sum": float(matched.sum()),
        # CTC's SEG: a true object's Jaccard with the predicted one covering > half of it,
        # a merged blob counting for each true object it covers
        "seg_sum": float(iou[covers].sum()), **aji_counts(t, p, inter, iou, area_t, area_p),
        **best_dice_sums(t, p, inter, area_t, area_p),  # CVPPP's SBD (evaluate.sbd)
        "tp_at": [int((matched > th).sum()) for th in IOU_THRESHOLDS]}


def _split_merged(t: np.ndarray, p: np.ndarray, inter: np.ndarray, area_p: np.ndarray,
                  covers: np.ndarray) -> dict:
    """Split true objects (2+ predicted ones each more than half inside it) and merging
    predicted ones (each covering more than half of 2+ true ones, `covers`: the Cell Tracking
    Challenge's DET rule, where such a node needs splitting) of the overlapping pairs (t, p) of
    `inter` px."""
    inside = 2 * inter > area_p[p]  # more than half of predicted p lies in true t
    return {"split": int(np.count_nonzero(np.bincount(t[inside]) >= 2)),
            "merged": int(np.count_nonzero(np.bincount(p[covers]) >= 2))}


def image_objects(target: np.ndarray, pred: np.ndarray, c: int, ids: np.ndarray | None,
                  ignore: int, exact_ids: bool = False) -> dict:
    """Counts of class `c`'s objects in one image (or (D, H, W) volume): true objects from `ids`
    (None: the target's components; `exact_ids`: drawn by the pipeline, no smear merged),
    predicted ones the components of `pred`; pixels where `target` is `ignore` (ignored,
    outside the roi) are left out of every area and object."""
    truth = target == c
    drawn = (target == ignore) if exact_ids else None
    true, n_true = _labels(truth) if ids is None else _id_parts(ids, truth, drawn)
    scored = target != ignore
    # the prediction's blobs of scored pixels only: a band cutting a true object in two cuts
    # the prediction over it alike (else one blob over both parts, IoU <= 0.5 with each)
    predicted, n_pred = _labels((pred == c) & scored)
    return match(true[scored], n_true, predicted[scored], n_pred)  # int32: key widens it


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else float(num / den)


def scores(n: dict) -> dict:
    """Precision, recall, F1, mean matched IoU, panoptic quality, the DSB score, SEG, AJI(+) of
    counts `n` (one image's, or summed over a set), and one image's SBD, DiC and |DiC|."""
    tp, fp, fn = n["tp"], n["fp"], n["fn"]
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn), "mean_matched_iou": _ratio(n["iou_sum"], tp),
            "panoptic_quality": _ratio(n["iou_sum"], tp + fp / 2 + fn / 2),
            # TP_t / (TP_t + FP_t + FN_t) at each t, where FP_t + FN_t = true + predicted - 2 TP_t
            "dsb_score": _ratio(sum(k / (n["true"] + n["predicted"] - k) for k in n["tp_at"]),
                                len(n["tp_at"])) if n["true"] + n["predicted"] else None,
            "seg": None if n.get("seg_sum") is None else _ratio(n["seg_sum"], n["true"]),
            # counts made without them (by hand, or summed over some without): none
            **{k: None if n.get(f"{k}_union") is None else _ratio(n[f"{k}_inter"],
                                                                   n[f"{k}_union"])
               for k in AJI_KEYS}, **image_sbd(n)}


def summarise_objects(per_image: list[dict]) -> dict:
    """One class's set scores from its per-image counts: those with an object summed (SBD,
    DiC and |DiC| the means of their per-image values)."""
    counted = [n for n in per_image if n["true"] or n["predicted"]]
    keys = ("true", "predicted", "tp", "fp", "fn", "split", "merged", "iou_sum")
    total = {k: sum(n[k] for n in counted) for k in keys}
    seg = [n.get("seg_sum") for n in counted]  # counts made without it (by hand): no SEG
    total["seg_sum"] = None if None in seg else sum(seg)
    for k in (f"{a}_{part}" for a in AJI_KEYS for part in ("inter", "union")):
        got = [n.get(k) for n in counted]  # pooled: C and U summed, not per-image AJIs averaged
        total[k] = None if None in got else sum(got)
    total["tp_at"] = [sum(n["tp_at"][i] for n in counted) for i in range(len(IOU_THRESHOLDS))]
    dsb = [scores(n)["dsb_score"] for n in counted]
    return {**{k: total[k] for k in keys[:-1]}, **scores(total), **mean_sbd(counted),
            "dsb_score_mean_per_image": float(np.mean(dsb)) if dsb else None,
            "images": len(counted), "images_empty": len(per_image) - len(counted)}


def score_objects(target: np.ndarray, masks: dict[str, np.ndarray], ids_path: str | None,
                  classes: range, ignore: int, drawn: bool = False) -> dict:
    """One image's object counts per method and foreground class (`classes`); `drawn`: the ids
    were drawn at download (masks.separate), exact, so no smear is merged."""
    ids = None if ids_path is None else read_ids(ids_path, target.shape)
    return {m: {str(c): image_objects(target, pred, c, ids, ignore, drawn) for c in classes}
            for m, pred in masks.items()}


def add_objects(summary: dict, results: list[dict], by_id: dict, threshold: float | None
                ) -> None:
    """Into `summary` (in place): each method's object scores per foreground class beside its
    pixel scores (methods.<m>.objects, summarise_objects), the true objects' source(s) (of
    each scored image's pair in `by_id`, object_source) and the rule."""
    summary["objects_source"] = sorted({SOURCES[object_source(by_id[r["id"]], threshold)[0]]
                                        for r in results})
    summary["objects_rule"] = OBJECTS_RULE
    for m, s in summary["methods"].items():
        classes = results[0]["objects"][m] if results else {}
        s["objects"] = {c: summarise_objects([r["objects"][m][c] for r in results])
                        for c in classes}
        for c, n in s["objects"].items():  # one line each in evaluate_masks.log
            log_counts(log, f"{m} class {c} objects", n)


def log_counts(logger: logging.Logger, what: str, n: dict) -> None:
    """One evaluate_masks.log line of a class's summed object counts and scores (`n`,
    summarise_objects'), `what` naming method, class and kind; a 0/0 score n/a."""
    logger.info("%s: %d true, %d predicted; TP %d, FP %d, FN %d, split %d, merged %d, F1 %s, "
                "PQ %s, DSB %s, SEG %s, AJI %s, AJI+ %s, SBD %s, DiC %s, |DiC| %s", what,
                n["true"], n["predicted"], n["tp"], n["fp"], n["fn"], n["split"], n["merged"],
                *("n/a" if n[k] is None else f"{n[k]:.4f}"
                  for k in ("f1", "panoptic_quality", "dsb_score", "seg", *AJI_KEYS,
                            *SBD_KEYS)))


# per_image.csv's object columns (evaluate.objects), after the pixel scores
OBJECT_COLUMNS = ("objects_true", "objects_predicted", "objects_tp", "objects_fp", "objects_fn",
                  "objects_split", "objects_merged", "objects_f1", "objects_mean_matched_iou",
                  "objects_panoptic_quality", "objects_dsb_score", "objects_seg", "objects_aji",
                  "objects_aji_plus", "objects_sbd", "objects_dic", "objects_abs_dic")


def object_cells(result: dict, method: str, c: int) -> list[str]:
    """One per_image.csv row's object cells: blank for background, and 0/0 ratios blank."""
    n = result.get("objects", {}).get(method, {}).get(str(c))
    if n is None:
        return [""] * len(OBJECT_COLUMNS)
    s = scores(n)
    ratios = (s[k] for k in ("f1", "mean_matched_iou", "panoptic_quality", "dsb_score", "seg",
                             *AJI_KEYS, *SBD_KEYS))  # DiC an int per image: "-1"
    return [*(str(n[k]) for k in ("true", "predicted", "tp", "fp", "fn", "split", "merged")),
            *("" if v is None else f"{v:.10g}" for v in ratios)]
