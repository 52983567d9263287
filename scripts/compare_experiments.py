"""Snakemake adapter for `compare_experiments`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.report.compare import compare_experiments  # noqa: E402

compare_experiments(dict(zip(snakemake.params.names, snakemake.input.summaries, strict=True)),
                    snakemake.output[0])
