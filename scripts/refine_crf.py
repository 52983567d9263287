"""Snakemake adapter for `refine_crf`."""

import logging

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.crf import CRFParams, crf_params  # noqa: E402
from unet.fileio import read_json  # noqa: E402
from unet.refine import refine_split  # noqa: E402

if snakemake.input.tuning:  # tuned on the validation split
    params = CRFParams(**read_json(snakemake.input.tuning[0])["best"])
    logging.info("CRF settings tuned on the validation split: %s", params)
else:
    params = crf_params(snakemake.params.crf)
refine_split(snakemake.input.manifest, snakemake.input.meta, snakemake.input.pred,
             snakemake.output[0], params, split="test", processes=snakemake.threads)
