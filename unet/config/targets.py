"""Command-line targets the workflow has no rule for, named with the fix before planning."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from unet.config.experiments import NAME, NAME_RULE


def predict_target_error(args: Iterable[str], data: str) -> str | None:
    """Why a `<data>/<experiment>/predict/<name>` target cannot be made: a folder name the
    predict_folder rule's wildcard refuses ('new batch', 'neue Bilder ü'), for which Snakemake
    says only "No rule to produce"; None when every such target in `args` is fine."""
    pattern = re.compile(rf"{re.escape(data)}/[^/]+/predict/(?P<name>[^/]+)")
    for target in args:  # the command line: only a target can match
        found = pattern.fullmatch(os.path.normpath(str(target)))
        if found and not NAME.fullmatch(found["name"]):
            name = found["name"]
            fix = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "new"
            return (f"{target}: a predict folder's name must {NAME_RULE} "
                    f"(Snakemake has no rule for {name!r}); rename resources/predict/{name} "
                    f"to resources/predict/{fix} and ask for .../predict/{fix}")
    return None
