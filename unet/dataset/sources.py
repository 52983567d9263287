"""Which module brings each dataset.source into place: download_dataset imports it by this
table, and the download rule lists only the configured source's as code inputs, so editing
one source's code (archives, HTTP, Kaggle) reruns no other source's data set."""

from __future__ import annotations

import importlib
from types import ModuleType

PACKAGE = "unet"
# A source's own modules (dotted, below unet), beyond dataset.download that every source
# runs (pairing, layouts, the manifest); local folders are read by dataset.download alone.
SOURCE_MODULES: dict[str, tuple[str, ...]] = {
    "synthetic": ("dataset.synthetic",),
    "local": (),
    "url": ("dataset.url",),
    "kaggle": ("dataset.kaggle",),
}


def source_module(source: str) -> ModuleType:
    """The module of `source`: imported through SOURCE_MODULES, which the rule's code
    inputs come from, so unet.deps sees it there and not as an import here."""
    return importlib.import_module(f"{PACKAGE}.{SOURCE_MODULES[source][0]}")
