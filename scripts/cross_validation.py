"""Snakemake adapter for `cross_validation`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.cross_validation import write_table  # noqa: E402

write_table(list(snakemake.input.histories), snakemake.output[0])
