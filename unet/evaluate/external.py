"""`unet score`: a model's predicted masks scored against an external folder's own masks (a
cross-data-set test: PraNet's ETIS and CVC-ColonDB), by evaluate_masks' own metrics."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from unet.common.fileio import make_folder, write_json
from unet.common.imageio import ImageReadError
from unet.common.labels import MaskMapping, MaskValueError, mapping_from_meta
from unet.common.parallel import parallel_map
from unet.common.schema import defaults
from unet.evaluate.evaluate import RULES, score_image, summarise
from unet.evaluate.external_pairs import PRED_FIX, TRUTH_FIX, Pairing, paired_files
from unet.evaluate.ground_truth import truth_mapping
from unet.evaluate.reading import ScoreJob
from unet.evaluate.rows import write_rows

log = logging.getLogger(__name__)
METHOD = "pred"  # per_image.csv's method column: the folder's masks, whichever step wrote them
TOLERANCE = defaults("evaluate")["boundary_tolerance"]  # px, as the workflow scores


def score_mapping(model: str | os.PathLike, threshold: float | None = None,
                  ignore: int | list[int] | None = None) -> tuple[MaskMapping, dict]:
    """The mapping that reads the truth as the model's training data was read (its values,
    threshold, ignore value, as `unet info` shows them), with --threshold and --ignore in
    place of the model's; and the model file's record."""
    from unet.model.checkpoint import load_model_file  # torch: only once the flags are read

    record = load_model_file(model)
    mapping = mapping_from_meta(record)
    if threshold is not None:
        bare = dataclasses.replace(mapping, threshold=None)
        # what masks.threshold could read: two grey values, or colours of 0/255 channels
        if bare.palette or not bare._can_threshold():
            raise ValueError(
                f"--threshold binarises masks of two grey values (or colours of 0 and 255 "
                f"channels), but {model} reads [{', '.join(mapping.labels())}]"
                + (" from palette masks" if bare.palette else "") + ": drop --threshold")
        mapping = dataclasses.replace(mapping, threshold=threshold)
    if ignore is not None:
        mapping = truth_mapping(mapping, {"ignore": ignore})
    return mapping, record


def _reworded(err: Exception, job: ScoreJob) -> Exception:
    """The workflow's advice (masks.threshold, masks.ignore, rerun a rule) as this command's
    flags: a model's values are fixed, so listing values or retraining is no fix here."""
    text = str(err)
    if isinstance(err, MaskValueError):
        problem = text.split("; add them to")[0].replace("masks.threshold: ", "--threshold ")
        hint = "" if "--threshold" in problem else (
            "--threshold T to binarise two-valued masks (above T reads as the higher value), ")
        return MaskValueError(
            f"{problem}; the model reads [{', '.join(job.mapping.labels())}] (unet info shows "
            f"them): give {hint}--ignore V to leave a value unscored, or mend the mask")
    inner = err.__cause__ if isinstance(err.__cause__, ImageReadError) else err
    named = [f for path, f in ((job.preds[METHOD], PRED_FIX), (job.gt_path, TRUTH_FIX))
             if path in text]  # a truth's damage, past its header, too: not the workflow's fix
    if named and isinstance(err, ImageReadError):
        return ImageReadError(getattr(inner, "problem", str(inner)), named[0])
    return err


def score_pair(job: ScoreJob) -> dict:
    """score_image of one pair, its errors in this command's words (in the worker: an
    exception's cause is lost on its way back)."""
    try:
        return score_image(job)
    except (MaskValueError, ImageReadError) as err:
        raise _reworded(err, job) from err


def _labelled(results: list[dict], truths: dict[str, str]) -> tuple[list[dict], list[str]]:
    """The pairs whose truth holds a scored pixel; those all ignored (every score 0/0, 1 by
    the convention) are left out, named; none left is refused."""
    keep = [any(s["confusion"].any() for s in r["scores"].values()) for r in results]
    scored = [r for r, k in zip(results, keep, strict=True) if k]
    left = [r["id"] for r, k in zip(results, keep, strict=True) if not k]
    if not scored:
        raise ValueError(f"every ground-truth mask is all ignored, e.g. {truths[left[0]]}: "
                         "nothing to score; check --ignore")
    if left:
        log.warning("not scored, their ground truth is all ignored: %s", ", ".join(left))
    return scored, left


def default_out(pred_dir: Path) -> Path:
    """Where the scores go unless --out says: beside the predictions, <PRED>_score."""
    pred_dir = Path(os.path.abspath(pred_dir))
    return pred_dir.with_name(f"{pred_dir.name}_score")


def _check_out(out: Path, truth_dir: Path) -> None:
    """Refuse an output folder in the truth folder: the scores would sit among the masks (and
    a rerun would take them for masks)."""
    o, t = Path(os.path.realpath(out)), Path(os.path.realpath(truth_dir))
    if o == t or t in o.parents:
        raise ValueError(f"--out {out} is inside the ground-truth folder {truth_dir}: give "
                         "another --out")


def score_folder(pred_dir: str | os.PathLike, truth_dir: str | os.PathLike,
                 model: str | os.PathLike, out: str | os.PathLike | None = None,
                 pairing: Pairing | None = None, threshold: float | None = None,
                 ignore: int | list[int] | None = None, processes: int = 1) -> dict:
    """Score the masks of `pred_dir` against `truth_dir`'s (paired by stem), read in `model`'s
    value space: per_image.csv and summary.json in `out` (default: default_out), as
    evaluate_masks writes them for method `pred`. Returns the summary."""
    pred_dir, truth_dir = Path(pred_dir), Path(truth_dir)
    out = Path(out) if out is not None else default_out(pred_dir)
    _check_out(out, truth_dir)
    pairs = paired_files(pred_dir, truth_dir, pairing or Pairing())  # before the model: names first
    mapping, record = score_mapping(model, threshold, ignore)
    jobs = [ScoreJob(k, str(t), {METHOD: str(p)}, mapping, TOLERANCE)
            for k, (p, t) in pairs.items()]
    results = list(parallel_map(score_pair, jobs, processes, "score"))
    results, unlabelled = _labelled(results, {k: str(t) for k, (_, t) in pairs.items()})
    summary = {
        "predictions": str(pred_dir), "ground_truth": str(truth_dir), "model": str(model),
        "images": len(results), "unlabelled": unlabelled,
        "class_values": list(mapping.values), "class_labels": mapping.labels(),
        "class_names": record.get("class_names"), "ignore_value": mapping.ignore,
        "threshold": mapping.threshold, "boundary_tolerance_px": TOLERANCE, **RULES,
        "scored_classes": list(range(mapping.scored_from, mapping.num_classes)),
        "methods": summarise(results, [METHOD], mapping.num_classes, mapping.scored_from),
    }
    make_folder(out)
    write_rows(out / "per_image.csv", results, summary["class_labels"], mapping.scored_from,
               summary["class_names"])
    write_json(out / "summary.json", summary)
    return summary


def score_table(summary: dict) -> str:
    """The stdout table: each scored class's Dice, mean per image and pooled over the set."""
    s, names = summary["methods"][METHOD], summary.get("class_names") or []
    rows = [("class", "Dice mean/image", "Dice pooled")]
    for c in summary["scored_classes"]:
        label = summary["class_labels"][c]
        name = f"{c} ({label}{' ' + names[c] if c < len(names) and names[c] else ''})"
        d = s["classes"][str(c)]
        mean = d["mean_per_image"]["dice"]
        rows.append((name, "n/a" if mean is None else f"{mean:.4f}", f"{d['global']['dice']:.4f}"))
    if len(summary["scored_classes"]) > 1:
        rows.append(("foreground", f"{s['foreground_dice_mean']:.4f}",
                     f"{s['foreground_dice_global']:.4f}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>15}  {c:>11}" for a, b, c in rows)
