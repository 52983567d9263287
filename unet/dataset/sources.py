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


def listed_module(name: str) -> ModuleType:
    """The unet module `name` (dotted, below unet), imported by name: for the modules a table
    (SOURCE_MODULES, layout_kinds.LAYOUT_MODULES) gives a rule as code inputs, so unet.deps
    sees them there and not as an import of the code that runs them."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def source_module(source: str) -> ModuleType:
    """The module of `source`, through SOURCE_MODULES."""
    return listed_module(SOURCE_MODULES[source][0])
