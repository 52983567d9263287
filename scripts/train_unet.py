"""Snakemake adapter for `train_unet`."""

from pathlib import Path

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.train.settings import TrainSettings  # noqa: E402
from unet.train.train import train_unet  # noqa: E402

train_unet(
    Path(snakemake.input.meta).parent,
    snakemake.output.model,
    snakemake.output.history,
    snakemake.params.checkpoints,
    dict(snakemake.params.model),
    TrainSettings(**snakemake.params.train, **vars(snakemake.params.speed)),
    threads=snakemake.threads,
    fold=snakemake.params.fold,
    class_names=snakemake.params.names.names,
)
