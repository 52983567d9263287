"""Snakemake adapter for `fetch_encoder_weights`."""

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.model.encoder_check import marker_encoder  # noqa: E402
from unet.model.pretrained import fetch_encoder_weights  # noqa: E402

fetch_encoder_weights(
    marker_encoder(snakemake.wildcards.encoder), snakemake.wildcards.weights, snakemake.output[0]
)
