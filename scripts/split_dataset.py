"""Snakemake adapter for `split_dataset`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.dataset.split import split_dataset  # noqa: E402

split_dataset(snakemake.input[0], snakemake.output[0], dict(snakemake.params.split),
              metadata=snakemake.input.get("metadata"))
