"""Snakemake adapter for `preprocess`."""

from pathlib import Path

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.preprocess import PreprocessSettings, preprocess  # noqa: E402

masks = snakemake.params.masks
settings = PreprocessSettings(
    width=snakemake.params.size["width"],
    height=snakemake.params.size["height"],
    mask_values=tuple(masks["values"]) if masks["values"] else None,
    mask_threshold=masks["threshold"],
    max_mask_values=masks["max_values"],
    mask_ignore=masks["ignore"],
)
preprocess(
    snakemake.input.manifest,
    snakemake.input.split,
    Path(snakemake.output.meta).parent,
    settings,
    processes=snakemake.threads,
)
