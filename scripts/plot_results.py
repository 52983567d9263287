"""Snakemake adapter for `plot_results`."""

import logging
from pathlib import Path

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.report import build  # noqa: E402

dirs = {"raw": Path(snakemake.input.pred) / "masks", "crf": Path(snakemake.input.crf) / "masks"}
logging.info(build(list(snakemake.input.histories), snakemake.input.summary, snakemake.input.per_image,
                   snakemake.input.manifest, dirs, snakemake.params.config,
                   dict(snakemake.output.items()),
                   snakemake.input.tuning[0] if snakemake.input.tuning else None))
