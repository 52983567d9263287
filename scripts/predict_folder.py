"""Snakemake adapter for `predict_folder`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.infer.predict import PredictSettings  # noqa: E402
from unet.infer.predict_folder import predict_folder  # noqa: E402

predict_folder(
    list(snakemake.input.models),
    snakemake.params.folder,
    snakemake.output[0],
    PredictSettings(**snakemake.params.predict),
    threads=snakemake.threads,
    extensions=snakemake.params.extensions,
    roi=snakemake.params.roi,
    recursive=snakemake.params.recursive,
)
