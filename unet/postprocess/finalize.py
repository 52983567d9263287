"""`finalize_masks`: the post-processing that won on validation gives the final masks.

As nnU-Net does, every candidate is scored on the validation split and kept only where it
beats the raw network output there: a CRF or a component filter that lowers the validation
Dice is not applied to the masks a user takes away. A candidate must win by `min_gain`: the
tuned CRF is the best of a grid scored on those same few images, so its score is biased up.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet.common.durable import sync_tree
from unet.common.fileio import atomic_path, read_json, write_json
from unet.common.georef import georef_masks
from unet.common.labels import IGNORE_INDEX, MaskMapping, mapping_from_meta
from unet.common.layout import method_dirs
from unet.common.parallel import parallel_map
from unet.common.probs import labels_of, probs_path, read_probs
from unet.common.roi import within_roi
from unet.crf.dense import CRFParams
from unet.crf.sparse_truth import sparse_note
from unet.crf.tune import MAX_SIDE, crf_confusions, scoring_window, split_sample
from unet.evaluate.metrics import confusion_matrix, foreground_dice
from unet.evaluate.void import without_nodata
from unet.postprocess.components import find_components, largest_component, remove_small
from unet.postprocess.threshold import CUTS, best_cut, cut_labels, cut_names

log = logging.getLogger(__name__)
CANDIDATES = ("crf", "largest_component", "small_objects", "threshold")  # may beat raw


@dataclass(frozen=True)
class FinalSettings:
    """Config section `postprocess`: the candidates besides raw, the margin to win by, and
    the sizes small_objects tries."""

    candidates: tuple[str, ...]
    min_gain: float
    min_sizes: tuple[int, ...] = (16, 64, 256, 1024)


@dataclass(frozen=True)
class ValImage:
    """One validation image: its saved probabilities and its ground truth."""

    probs_path: str
    gt_path: str
    mapping: MaskMapping
    max_side: int = MAX_SIDE  # scored on the window the CRF tuning scored (scoring_window)
    min_sizes: tuple[int, ...] = ()  # small_objects' sizes; () when it is not a candidate
    roi: str | None = None  # the image's region of interest: outside it is not scored
    image: str | None = None  # the scene: its no-data pixels are not scored (without_nodata)
    cuts: tuple[float, ...] = ()  # threshold's cuts; () when it is not a candidate
    ignored: str | None = None  # the image's region to ignore: not scored


def _raw_confusions(job: ValImage) -> tuple[np.ndarray, ...]:
    """One validation image's confusion matrices, on its scoring window: raw argmax, its
    largest component, (k, n, n) its small objects removed at each of the k min_sizes
    (components found in the whole image), and (m, n, n) its probabilities cut at each of
    the m cuts."""
    probs = read_probs(job.probs_path)
    labels = labels_of(probs)  # (H, W), a band of rows at a time
    target = within_roi(job.mapping.read_index(job.gt_path, "ground-truth mask"), job.roi,
                        job.gt_path, job.ignored)
    target = without_nodata(target, job.image, job.mapping.ignore)  # as evaluation scores
    window = scoring_window(target, job.max_side)
    n = job.mapping.num_classes

    def scored(pred: np.ndarray) -> np.ndarray:
        return confusion_matrix(pred[window], target[window], n, IGNORE_INDEX)

    comps = find_components(labels, n, job.mapping.scored_from) if job.min_sizes else None
    small = [scored(remove_small(labels, comps, s)) for s in job.min_sizes]
    # each cut scores the window alone: no full-size pass over the probabilities per cut
    near = probs[:, window[0], window[1]]  # (C, h, w), a view of the map
    cut = [confusion_matrix(cut_labels(near, t), target[window], n, IGNORE_INDEX)
           for t in job.cuts]
    return (scored(labels), scored(largest_component(labels, n, job.mapping.scored_from)),
            np.array(small, np.int64).reshape(len(small), n, n),
            np.array(cut, np.int64).reshape(len(cut), n, n))


def score_candidates(
    manifest: dict,
    meta: dict,
    val_pred: str | os.PathLike,
    tuning: dict | None,
    crf: CRFParams,
    max_images: int,
    candidates: tuple[str, ...] = CANDIDATES,
    processes: int = 1,
    max_side: int = MAX_SIDE,
    min_sizes: tuple[int, ...] = (),
) -> tuple[dict[str, float], dict[int, float], int, dict[float, float]]:
    """Foreground Dice of raw and each candidate on `max_images` validation images (split_sample),
    each on its scoring window (at most `max_side` a side): what tune_crf scored, so its best
    CRF score is reused rather than computed again. small_objects scores its best of
    `min_sizes`, threshold its best of CUTS; the second dict gives each size's score; the
    third, the foreground pixels (classes scored_from and up) of their ground truth; the
    fourth, each cut's score."""
    by_id = {p["id"]: p for p in manifest["pairs"]}
    ids = split_sample(meta, "val", max_images)
    mapping = mapping_from_meta(meta)
    n = mapping.num_classes
    sizes = tuple(min_sizes) if "small_objects" in candidates else ()
    raw, lcc = np.zeros((n, n), np.int64), np.zeros((n, n), np.int64)
    cuts = CUTS if "threshold" in candidates else ()
    small = np.zeros((len(sizes), n, n), np.int64)
    cut = np.zeros((len(cuts), n, n), np.int64)
    jobs = [ValImage(str(probs_path(val_pred, i)), by_id[i]["mask"], mapping, max_side, sizes,
                     by_id[i].get("roi"), by_id[i].get("image"), cuts,
                     by_id[i].get("ignore_regions")) for i in ids]
    for a, b, c, d in parallel_map(_raw_confusions, jobs, processes, "score raw"):
        raw, lcc, small, cut = raw + a, lcc + b, small + c, cut + d
    first = mapping.scored_from
    scores = {"raw": foreground_dice(raw, first)}
    if "crf" in candidates and tuning is not None:
        scores["crf"] = tuning["best_dice"]
    elif "crf" in candidates:  # tuning off: the configured CRF, on the same images
        scores["crf"] = foreground_dice(
            crf_confusions(manifest, meta, val_pred, ids, crf, processes, max_side), first
        )
    if "largest_component" in candidates:
        scores["largest_component"] = foreground_dice(lcc, first)
    by_size = {s: foreground_dice(m, first) for s, m in zip(sizes, small, strict=True)}
    if by_size:
        scores["small_objects"] = max(by_size.values())
    by_cut = {t: foreground_dice(m, first) for t, m in zip(cuts, cut, strict=True)}
    if by_cut:
        scores["threshold"] = by_cut[best_cut(by_cut)]
    return scores, by_size, int(raw[first:].sum()), by_cut


def choose(scores: dict[str, float], min_gain: float, foreground: int = 1) -> tuple[str, str]:
    """The best candidate if it beats raw by at least `min_gain` (and at all: raw wins ties),
    else raw; and why, with every score. Raw when the validation ground truth holds no
    `foreground` pixel: there a candidate scores only by erasing the raw masks' false
    positives (1.0 against their 0.0), and would erase true ones on the test split."""
    listed = ", ".join(f"{c} {s:.4f}" for c, s in scores.items())
    others = [c for c in scores if c != "raw"]
    if not others:
        return "raw", "no post-processing was a candidate"
    if not foreground:
        return "raw", (
            "the validation images scored hold no foreground in their ground truth, so a "
            f"post-processing could only be judged on erasing false positives ({listed}); "
            "validate on images with foreground (crf.tune.max_images, split.val_fraction)"
        )
    best = max(others, key=lambda c: scores[c])
    gain = scores[best] - scores["raw"]
    if gain > 0 and gain >= min_gain:
        return best, f"{best} beat the raw masks on validation by {gain:+.4f} ({listed})"
    return "raw", (
        f"no post-processing beat the raw masks on validation by postprocess.min_gain "
        f"{min_gain} ({listed})"
    )


@dataclass(frozen=True)
class FinalImage:
    """One test image's final mask: which method's, from which folders, to where."""

    chosen: str
    image_id: str
    dirs: dict[str, Path]
    out: Path
    mapping: MaskMapping
    min_size: int = 0  # small_objects' chosen size
    cut: float = 0.5  # threshold's chosen cut


def _copy_or_filter(job: FinalImage) -> None:
    """Copy the chosen method's mask into final/masks (atomically), or filter the raw one."""
    name = f"{job.image_id}.png"
    n = job.mapping.num_classes
    if job.chosen == "threshold":  # the test split's probabilities beside its raw masks
        probs = read_probs(probs_path(job.dirs["raw"].parent, job.image_id))
        job.mapping.write(job.out / name, cut_labels(probs, job.cut))
    elif job.chosen in ("largest_component", "small_objects"):
        labels = job.mapping.read_index(job.dirs["raw"] / name, "predicted mask")
        # the scene's no-data pixels (masks.ignore): class 0 here, marked again by georef_masks
        labels[labels == IGNORE_INDEX] = 0
        if job.chosen == "largest_component":
            labels = largest_component(labels, n, job.mapping.scored_from)
        else:
            comps = find_components(labels, n, job.mapping.scored_from)
            labels = remove_small(labels, comps, job.min_size)
        job.mapping.write(job.out / name, labels)
    else:
        # atomic_path: a full disk names the mask and leaves no half-copied scratch behind
        with atomic_path(job.out / name) as tmp:
            shutil.copyfile(job.dirs[job.chosen] / name, tmp)


def _competing(settings: FinalSettings, crf_on: bool, classes: int) -> tuple[tuple, str]:
    """The candidates that can compete, and what the reason adds about the rest: the CRF's when
    it is off, threshold's beyond two classes (one class's probability has no single cut)."""
    candidates, note = settings.candidates, ""
    if not candidates:
        return candidates, " (postprocess.candidates is empty)"
    if not crf_on and "crf" in candidates:
        candidates = tuple(c for c in candidates if c != "crf")
        note += "; the CRF is off (crf.enabled: false), so it did not compete"
    if classes != 2 and "threshold" in candidates:
        candidates = tuple(c for c in candidates if c != "threshold")
        note += (f"; postprocess.candidates threshold cuts a binary task's foreground "
                 f"probability, and this data has {classes} classes, so it did not compete")
    return candidates, note


def _detail(chosen: str, min_size: int, by_size: dict, cut: float) -> str:
    """What the chosen candidate's reason adds: the setting it chose on validation."""
    if chosen == "small_objects":
        return (f"; it removes foreground components under {min_size} px, the best of "
                f"postprocess.min_sizes {sorted(by_size)}")
    if chosen == "threshold":
        return (f"; foreground where its probability is above {cut:.2f} (not 0.5), the best "
                f"cut of {CUTS[0]:.2f}-{CUTS[-1]:.2f} by 0.05")
    return ""


def finalize_masks(
    manifest_path: str | os.PathLike,
    meta_path: str | os.PathLike,
    val_pred: str | os.PathLike,
    test_pred: str | os.PathLike,
    crf_dir: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    settings: FinalSettings,
    crf: CRFParams,
    max_images: int,
    tuning_json: str | os.PathLike | None = None,
    processes: int = 1,
    max_side: int = MAX_SIDE,
) -> dict:
    """Choose on validation, then write out_dir/masks/<id>.png for the test split and
    out_dir/choice.json (candidates' validation scores, the choice, the reason). `crf_dir`
    None: the CRF is off, so it does not compete."""
    manifest, meta = read_json(manifest_path), read_json(meta_path)
    tuning = read_json(tuning_json) if tuning_json else None
    mapping: MaskMapping = mapping_from_meta(meta)
    candidates, note = _competing(settings, crf_dir is not None, mapping.num_classes)
    scores, by_size, foreground, by_cut = score_candidates(
        manifest, meta, val_pred, tuning, crf, max_images, candidates, processes, max_side,
        settings.min_sizes)
    # small_objects' size: the smallest among the best, the least it takes away
    min_size = min((s for s, d in by_size.items() if d == scores["small_objects"]), default=0)
    cut = best_cut(by_cut) if by_cut else 0.5
    chosen, reason = choose(scores, settings.min_gain, foreground)
    reason += _detail(chosen, min_size, by_size, cut) + note
    if sparse := sparse_note(meta):  # scribbled validation: the choice is blind at edges
        log.warning("final masks: %s", sparse)
        reason += f"; but {sparse}"
    masks = Path(out_dir) / "masks"
    masks.mkdir(parents=True, exist_ok=True)
    dirs = method_dirs(test_pred, crf_dir)
    ids = meta["splits"]["test"]["ids"]
    jobs = [FinalImage(chosen, i, dirs, masks, mapping, min_size, cut) for i in ids]
    for _ in parallel_map(_copy_or_filter, jobs, processes, "final masks", ordered=False):
        pass
    georef_masks(manifest, ids, masks, mapping.ignore)
    images = min(max_images, len(meta["splits"]["val"]["ids"]))
    choice = {"chosen": chosen, "reason": reason, "split": "val", "images": images,
              "min_gain": settings.min_gain, "val_foreground_dice": scores}
    if by_size:
        choice["small_objects"] = {"min_size": min_size, "val_foreground_dice":
                                   {str(s): d for s, d in sorted(by_size.items())}}
    if by_cut:
        choice["threshold"] = {"cut": cut, "val_foreground_dice": cut_names(by_cut)}
    write_json(Path(out_dir) / "choice.json", choice)
    sync_tree(out_dir)  # a rerun trusts the folder: on disk before the job reports done
    log.info("final masks: %s (%s)", chosen, reason)
    return choice
