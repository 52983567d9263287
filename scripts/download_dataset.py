"""Snakemake adapter for `download_dataset`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.dataset.download import download_dataset  # noqa: E402

download_dataset(
    snakemake.output[0],
    snakemake.params.source,
    dict(snakemake.params.settings),
    processes=snakemake.threads,
    data_digest=snakemake.params.data,
)
