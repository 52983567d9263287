"""One spelling per setting: values a user may write in more than one form, rewritten in the
form the steps read, so that params (compared as written) stay the same whichever was used."""

from __future__ import annotations

import os

from unet.dataset.split import ID_KEYS

# [width, height] keys of the train section that one integer n may give as the square [n, n]
# (nnU-Net's and MONAI's patch sizes are written so): config/schema.yaml takes either form.
SQUARE_SIZES = (("patch", "size"), ("augment", "crop"))


def _train_sections(config: dict) -> list:
    """The train section and each experiment's train override (non-mappings left out)."""
    overrides = [(o or {}).get("train") if isinstance(o, dict) else None
                 for o in (config.get("experiments") or {}).values()]
    return [s for s in (config.get("train"), *overrides) if isinstance(s, dict)]


def square_sizes(config: dict) -> None:
    """A size written as one integer (`train.patch.size: 64`) as its [n, n], in place, in the
    base config and the experiments' overrides: [64, 64] and 64 then plan the same steps."""
    for train in _train_sections(config):
        for section, key in SQUARE_SIZES:
            values = train.get(section)
            if isinstance(values, dict) and type(values.get(key)) is int:
                values[key] = [values[key], values[key]]


def home_paths(config: dict) -> None:
    """A leading ~ in the file paths a rule reads as inputs (split id files, train.init_from)
    is the home folder, as in dataset.local.path: Snakemake would look for <workdir>/~/...
    Only a value that starts with ~ changes, so no other config reruns anything."""
    def home(value):
        return os.path.expanduser(value) if isinstance(value, str) else value

    split = config.get("split") or {}
    for key in ID_KEYS:
        if key in split:
            split[key] = home(split[key])  # a list holds ids, not paths: kept
    for section in _train_sections(config):
        if "init_from" in section:
            section["init_from"] = home(section["init_from"])
