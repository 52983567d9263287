"""Snakemake adapter for `evaluate_masks`."""

from pathlib import Path

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.common.layout import method_dirs  # noqa: E402
from unet.evaluate.evaluate import evaluate_masks  # noqa: E402

inp = snakemake.input

evaluate_masks(
    snakemake.input.manifest,
    snakemake.input.meta,
    method_dirs(inp.pred, inp.crf[0] if inp.crf else None, inp.final),
    snakemake.output.per_image,
    snakemake.output.summary,
    split="test",
    tolerance=snakemake.params.evaluate["boundary_tolerance"],
    processes=snakemake.threads,
    choice_json=Path(inp.final) / "choice.json",
    class_names=snakemake.params.names,
    regions=snakemake.params.evaluate.get("regions"),
    group_by=snakemake.params.get("group_by"),
    cases_csv=snakemake.output.get("per_case"),
    # a table's path as resolved (under dataset.local.path), else the [z, y, x] list
    voxel_spacing=inp.get("spacing") or snakemake.params.evaluate.get("voxel_spacing"),
    objects=snakemake.params.evaluate.get("objects", False),
    iou_threshold=snakemake.params.evaluate.get("iou_threshold"),
    relaxed_slack=snakemake.params.evaluate.get("relaxed_slack"),  # roads' rho px
    # evaluate.pr_curve: the raw probabilities predict_masks wrote beside its masks
    probs_dir=inp.pred if snakemake.params.evaluate.get("pr_curve") else None,
    ground_truth=snakemake.params.evaluate.get("ground_truth"),  # e.g. ISPRS's eroded masks
    dataset=snakemake.params.get("dataset"),  # where the ground truth's folder has {group}
)
