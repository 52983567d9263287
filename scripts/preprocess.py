"""Snakemake adapter for `preprocess`."""

from pathlib import Path

import _unet_path  # noqa: F401  (the repository's unet package, in any environment)

from unet.common.logs import setup_logging

setup_logging(snakemake.log[0])

from unet.cache.preprocess import preprocess  # noqa: E402
from unet.cache.settings import settings_from_config  # noqa: E402

preprocess(snakemake.input.manifest, snakemake.input.split, Path(snakemake.output.meta).parent,
           # masks.max_values only refuses lossy masks and masks.names only label, so neither
           # is a tracked param (a cache made before stays valid), but the checks use them
           settings_from_config(snakemake.params.size,
                                {**snakemake.params.masks, **vars(snakemake.params.checked)}),
           processes=snakemake.threads,
           # values listed as detected are tracked as null: meta.json says if they still are
           tracked_as_null=snakemake.params.masks["values"] is None)
