"""Snakemake adapter for `cross_validation`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.report.cross_validation import cross_validation  # noqa: E402

cross_validation(list(snakemake.input.histories), snakemake.output[0])
