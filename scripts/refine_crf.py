"""Snakemake adapter for `refine_crf`."""

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.crf import CRFParams  # noqa: E402
from unet.refine import refine_split  # noqa: E402

refine_split(
    snakemake.input.manifest,
    snakemake.input.meta,
    snakemake.input.pred,
    snakemake.output[0],
    CRFParams(**snakemake.params.crf),
    split="test",
    processes=snakemake.threads,
)
