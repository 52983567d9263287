"""Snakemake adapter for `plot_results`."""

import logging

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.common.layout import method_dirs  # noqa: E402
from unet.report.plot import plot_results  # noqa: E402

inp = snakemake.input
dirs = method_dirs(inp.pred, inp.crf[0] if inp.crf else None, inp.final)
verdict = plot_results(
    list(inp.histories),
    inp.summary,
    inp.per_image,
    inp.manifest,
    inp.meta,
    dirs,
    snakemake.params.config,
    dict(snakemake.output.items()),
    inp.tuning[0] if inp.tuning else None,
    inp.get("per_case"),
)
logging.info(verdict)
