"""Everything the HTML report shows for one experiment: figures, tables, versions."""

from __future__ import annotations

import csv
import os
import platform
from importlib import metadata
from pathlib import Path

import yaml

from unet.common.band_ranges import scale_of
from unet.common.fileio import atomic_path, read_json
from unet.common.labels import mapping_from_meta
from unet.report import charts, figures
from unet.report.case_chart import plot_case_dice
from unet.report.cases import table_cells, table_columns
from unet.report.objects import object_cells, object_columns
from unet.report.pr_plot import plot_pr_curve
from unet.report.regions import region_rows
from unet.report.relaxed import table_cells as relaxed_cells
from unet.report.relaxed import table_columns as relaxed_columns
from unet.report.training import training_verdict

PACKAGES = (
    "unet-pipeline",
    "torch",
    "torchvision",
    "snakemake",
    "numpy",
    "pillow",
    "scipy",
    "pydensecrf2",
    "matplotlib",
)


def metrics_table(
    summary: dict, path: str | os.PathLike, fractions: list[float] | None = None
) -> None:
    """TSV: one row per method and class: its value and name (blank when none), its share of
    the training pixels (`fractions`, the cache's class_fractions; blank when unknown), global
    and per-image scores (blank for a class no test image's target or prediction holds), and
    the mean Dice over only the images whose ground truth holds the class (mean_dice_positive:
    blank for none, and for older summaries), how many test images hold the class, how many of
    those the method missed, and on how many without it it predicted some (summary.json's
    image counts; blank for background); then each method's evaluate.regions (region_rows);
    with split.group_by, each row's Dice per case too (report.cases); with evaluate.objects,
    each foreground class's object counts and scores (report.objects); with
    evaluate.relaxed_slack, each scored class's relaxed precision, recall, F1 (report.relaxed)."""
    cols = ("dice", "iou", "precision", "recall")
    names = summary.get("class_names") or [None] * len(summary["class_values"])
    per_img = ("dice", "boundary_f1", "hd95")
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(
            [
                "method", "class", "value", "name", "train_share",
                *(f"global_{c}" for c in cols),
                *(f"mean_{c}" for c in per_img),
                "mean_dice_positive",
                "pixel_accuracy",
                *(f"images_{k}" for k in IMAGE_COUNTS.values()),
                *table_columns(summary),  # split.group_by: each case scored whole
                *object_columns(summary),  # evaluate.objects
                *relaxed_columns(summary),  # evaluate.relaxed_slack
            ]
        )
        for m, s in summary["methods"].items():
            for c, scores in s["classes"].items():
                mean = scores["mean_per_image"]
                # No test image's target or prediction holds the class: every score is 0/0,
                # 1.0 by convention, which reads as perfect. Blank, as history.csv's nan.
                held = scores.get("held", True)
                positive = scores.get("mean_positive", {}).get("dice")
                w.writerow(
                    [
                        m,
                        c,
                        summary.get("class_labels", summary["class_values"])[int(c)],
                        names[int(c)] or "",
                        f"{fractions[int(c)]:.4f}" if fractions else "",
                        *(f"{scores['global'][k]:.4f}" if held else "" for k in cols),
                        *("" if mean[k] is None or not held else f"{mean[k]:.4f}"
                          for k in per_img),
                        "" if positive is None else f"{positive:.4f}",
                        f"{s['pixel_accuracy']:.4f}",
                        *_image_counts(s.get("images", {}).get(c)),
                        *table_cells(summary, m, "classes", c),
                        *object_cells(summary, m, c),
                        *relaxed_cells(summary, m, c),
                    ]
                )
            # evaluate.regions, after the classes (the name column holds the region's name)
            w.writerows([*row, *table_cells(summary, m, "regions", row[3]),
                         *object_cells(summary, m, None), *relaxed_cells(summary, m, None)]
                        for row in region_rows(summary, m, fractions))


# summary.json's image counts the table shows, and their column names (images_<name>)
IMAGE_COUNTS = {"positive": "held", "missed": "missed", "false_positive": "false_positive"}


def _image_counts(counts: dict | None) -> list[str]:
    """A class's image counts for the table; blanks for background and older summaries."""
    return [str(counts[k]) if counts else "" for k in IMAGE_COUNTS]


def crf_verdict(summary: dict, tuning: dict | None) -> str:
    """Did the CRF help: on validation while tuning, and on the test split (foreground Dice)?
    Or that it was off (no crf method in the summary)."""
    raw = summary["methods"]["raw"]["foreground_dice_global"]
    if "crf" not in summary["methods"]:
        text = (
            f"The CRF is off (crf.enabled: false): foreground Dice {raw:.4f} raw on the "
            f"{summary['split']} split."
        )
    else:
        crf = summary["methods"]["crf"]["foreground_dice_global"]
        word = "helped" if crf > raw else "did not help"
        text = (
            f"The CRF {word} on the {summary['split']} split: foreground Dice {raw:.4f} raw, "
            f"{crf:.4f} after the CRF ({crf - raw:+.4f})."
        )
    if tuning and tuning.get("val_foreground_pixels", 1) == 0:
        text += (
            f" While tuning on {tuning['images']} {tuning['split']} images, whose ground truth "
            f"holds no foreground, the {len(tuning['grid'])} settings could not be judged: one "
            f"scores only by erasing false positives ({tuning['best_dice']:.4f} vs "
            f"{tuning['raw_dice']:.4f} raw), so the test split's CRF used the configured ones."
        )
    elif tuning:
        outcome = "beat" if tuning["helps"] else "did not beat"
        text += (
            f" While tuning on {tuning['images']} {tuning['split']} images, the best of "
            f"{len(tuning['grid'])} settings {outcome} the raw masks "
            f"({tuning['best_dice']:.4f} vs {tuning['raw_dice']:.4f})."
        )
    if "final" in summary:
        final = summary["final"]
        text += (
            f" final/masks holds the {final['chosen']} masks, chosen on {final['images']} "
            f"{final['split']} images: {final['reason']}."
        )
    return text


def tuning_table(tuning: dict | None, path: str | os.PathLike, crf_on: bool = True) -> None:
    """TSV of the CRF grid, best first, used_on_test marking the row the test split's CRF used
    (none where tuning could not judge); or a note that tuning, or the CRF, was off."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        if not tuning:
            off = "CRF tuning is off (crf.tune.enabled: false)"
            w.writerows([["note"], [off if crf_on else "The CRF is off (crf.enabled: false)"]])
            return
        keys = [k for k in tuning["grid"][0] if k != "dice"]
        used = _used_row(tuning, keys)
        w.writerow([*keys, "val_foreground_dice", "minus_raw", "used_on_test"])
        for i, row in sorted(enumerate(tuning["grid"]), key=lambda ir: -ir[1]["dice"]):
            w.writerow(
                [
                    *(row[k] for k in keys),
                    f"{row['dice']:.4f}",
                    f"{row['dice'] - tuning['raw_dice']:+.4f}",
                    "yes" if i == used else "no",
                ]
            )


def _used_row(tuning: dict, keys: list[str]) -> int | None:
    """The grid row whose settings refined the test split (crf.dense.chosen_params): the best,
    the first of equal ones as tune_crf picks it; None where tuning could not judge (no
    foreground in the validation ground truth), as the configured settings were used."""
    if not tuning.get("val_foreground_pixels", 1):
        return None
    best = tuning["best"]
    return next((i for i, row in enumerate(tuning["grid"])
                 if all(row[k] == best[k] for k in keys)), None)


def environment(config: dict, path: str | os.PathLike) -> None:
    """YAML with package versions, the platform, and the config this experiment ran with."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    doc = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "config": config,
    }
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(doc, sort_keys=False))


def plot_results(
    history_csvs: list[str | os.PathLike],
    summary_json: str | os.PathLike,
    per_image_csv: str | os.PathLike,
    manifest_json: str | os.PathLike,
    meta_json: str | os.PathLike,
    mask_dirs: dict[str, Path],
    config: dict,
    out: dict[str, str],
    tuning_json: str | os.PathLike | None = None,
    per_case_csv: str | os.PathLike | None = None,
) -> str:
    """Write every report file named in `out` (`cases`, with split.group_by's `per_case_csv`:
    the per-case Dice chart; `pr_curve`, with evaluate.pr_curve: the PR chart); returns the
    verdict: a kept model that has not learnt a class first, then whether the CRF helped."""
    summary = read_json(summary_json)
    tuning = read_json(tuning_json) if tuning_json else None
    tuning_table(tuning, out["tuning"], crf_on="crf" in mask_dirs)
    meta = read_json(meta_json)
    names = summary.get("class_names")  # masks.names or the data's, as evaluation showed them
    charts.plot_curves(history_csvs, out["curves"], names, mapping_from_meta(meta))
    charts.plot_methods(summary, out["methods"])
    figures.write_overlays(
        per_image_csv, read_json(manifest_json), mask_dirs, out["overlays"],
        mapping_from_meta(meta), names=names, span=scale_of(meta),
        labels=charts.method_labels(summary),
        bands=(config.get("report") or {}).get("bands"),  # null: the file's red, green, blue
    )
    metrics_table(summary, out["table"], meta.get("class_fractions"))
    if per_case_csv and "cases" in out:  # only where split.group_by names cases
        plot_case_dice(per_case_csv, summary, out["cases"], charts.method_labels(summary))
    if "pr_curve" in out:  # only with evaluate.pr_curve
        plot_pr_curve(summary, out["pr_curve"])
    environment(config, out["environment"])
    # a model that never predicts a class makes every later figure moot: said first
    learnt = training_verdict(history_csvs, mapping_from_meta(meta).scored_from, meta, names)
    verdict = " ".join(filter(None, [learnt, crf_verdict(summary, tuning)]))
    with atomic_path(out["verdict"]) as tmp:
        tmp.write_text(verdict + "\n")
    return verdict
