"""Snakemake adapter for `tune_crf`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.crf.dense import crf_params  # noqa: E402
from unet.crf.tune import tune_crf  # noqa: E402

tune = snakemake.params.crf["tune"]
tune_crf(snakemake.input.manifest, snakemake.input.meta, snakemake.input.pred,
         snakemake.output[0], crf_params(snakemake.params.crf), dict(tune["grid"]),
         max_images=tune["max_images"], processes=snakemake.threads,
         max_side=tune["max_side"])
