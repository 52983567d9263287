"""Snakemake adapter for `predict_masks`."""

from pathlib import Path

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.infer.predict import PredictSettings, predict_masks  # noqa: E402

predict_masks(
    list(snakemake.input.models),
    Path(snakemake.input.meta).parent,
    snakemake.wildcards.split,
    snakemake.output[0],
    PredictSettings(**snakemake.params.predict),
    threads=snakemake.threads,
    manifest=snakemake.input.manifest,
)
