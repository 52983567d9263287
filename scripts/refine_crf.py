"""Snakemake adapter for `refine_crf`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.crf.dense import chosen_params  # noqa: E402
from unet.crf.refine import refine_crf  # noqa: E402

tuning = snakemake.input.tuning[0] if snakemake.input.tuning else None
params = chosen_params(snakemake.params.crf, tuning)
refine_crf(snakemake.input.manifest, snakemake.input.meta, snakemake.input.pred,
             snakemake.output[0], params, split="test", processes=snakemake.threads)
