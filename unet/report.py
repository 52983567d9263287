"""Everything the HTML report shows for one experiment: figures, tables, versions."""

from __future__ import annotations

import csv
import os
import platform
from importlib import metadata
from pathlib import Path

import yaml

from unet import plots
from unet.fileio import atomic_path, read_json

PACKAGES = ("unet-pipeline", "torch", "torchvision", "snakemake", "numpy", "pillow", "scipy",
            "pydensecrf2", "matplotlib")


def metrics_table(summary: dict, path: str | os.PathLike) -> None:
    """TSV: one row per method and class, global and per-image scores, and the CRF delta."""
    cols = ("dice", "iou", "precision", "recall")
    per_img = ("dice", "boundary_f1", "hd95")
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["method", "class", "value", *(f"global_{c}" for c in cols),
                    *(f"mean_{c}" for c in per_img), "pixel_accuracy"])
        for m, s in summary["methods"].items():
            for c, scores in s["classes"].items():
                mean = scores["mean_per_image"]
                w.writerow([m, c, summary["class_values"][int(c)],
                            *(f"{scores['global'][k]:.4f}" for k in cols),
                            *("" if mean[k] is None else f"{mean[k]:.4f}" for k in per_img),
                            f"{s['pixel_accuracy']:.4f}"])


def crf_verdict(summary: dict) -> str:
    """One sentence: did the CRF help on this split (foreground Dice, counts over the set)?"""
    raw = summary["methods"]["raw"]["foreground_dice_global"]
    crf = summary["methods"]["crf"]["foreground_dice_global"]
    word = "helped" if crf > raw else "did not help"
    return (f"The CRF {word} on the {summary['split']} split: foreground Dice {raw:.4f} raw, "
            f"{crf:.4f} after the CRF ({crf - raw:+.4f}).")


def environment(config: dict, path: str | os.PathLike) -> None:
    """YAML with package versions, the platform, and the config this experiment ran with."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    doc = {"python": platform.python_version(), "platform": platform.platform(),
           "packages": versions, "config": config}
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(doc, sort_keys=False))


def build(history_csv: str | os.PathLike, summary_json: str | os.PathLike,
          per_image_csv: str | os.PathLike, manifest_json: str | os.PathLike,
          mask_dirs: dict[str, Path], config: dict, out: dict[str, str]) -> str:
    """Write every report file named in `out`; returns the CRF verdict sentence."""
    summary = read_json(summary_json)
    plots.plot_curves(history_csv, out["curves"])
    plots.plot_methods(summary, out["methods"])
    plots.write_overlays(per_image_csv, read_json(manifest_json), mask_dirs, out["overlays"])
    metrics_table(summary, out["table"])
    environment(config, out["environment"])
    verdict = crf_verdict(summary)
    with atomic_path(out["verdict"]) as tmp:
        tmp.write_text(verdict + "\n")
    return verdict
