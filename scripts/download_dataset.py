"""Snakemake adapter for `download_dataset`."""

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.sources import prepare_dataset  # noqa: E402

prepare_dataset(
    snakemake.output[0],
    snakemake.params.source,
    dict(snakemake.params.settings),
    processes=snakemake.threads,
)
