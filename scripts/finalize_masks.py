"""Snakemake adapter for `finalize_masks`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.crf.dense import chosen_params  # noqa: E402
from unet.postprocess.finalize import FinalSettings, finalize_masks  # noqa: E402

inp = snakemake.input
tuning = inp.tuning[0] if inp.tuning else None
finalize_masks(
    inp.manifest,
    inp.meta,
    inp.val,
    inp.pred,
    inp.crf[0] if inp.crf else None,
    snakemake.output[0],
    FinalSettings(**{k: tuple(v) if isinstance(v, list) else v  # min_sizes: small_objects'
                     for k, v in snakemake.params.postprocess.items()}),
    chosen_params(snakemake.params.crf, tuning),
    snakemake.params.crf["tune"]["max_images"],
    tuning_json=tuning,
    processes=snakemake.threads,
    max_side=snakemake.params.crf["tune"]["max_side"],
)
