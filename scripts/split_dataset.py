"""Snakemake adapter for `split_dataset`."""

import logging

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.fileio import read_json, write_json  # noqa: E402
from unet.split import make_split  # noqa: E402

p = snakemake.params.split
ids = [pair["id"] for pair in read_json(snakemake.input[0])["pairs"]]
split = make_split(
    ids,
    seed=p["seed"],
    val_fraction=p["val_fraction"],
    test_fraction=p["test_fraction"],
    test_ids=p["test_ids"],
    folds=p["folds"],
)
write_json(snakemake.output[0], {"seed": p["seed"], **split})
logging.info("split %s", {k: len(v) for k, v in split.items()})
