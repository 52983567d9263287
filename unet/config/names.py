"""dataset.name against dataset.source: the built-in data set's name is its own."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

BUILT_IN = "synthetic"  # config/config.yaml's dataset.name, the built-in generator's folders
# resources/ folders of the workflow's own, beside the data sets' resources/<dataset.name>/
SHARED = {"predict": "the folders of new images to predict (the predict_folder rule's)",
          "encoders": "the pretrained encoder weights (fetch_encoder_weights)"}
ARCHIVE = re.compile(r"(\.tar)?\.(zip|tar|tgz|gz|bz2|xz|tbz2|txz)$", re.I)


def suggested_name(dataset: dict) -> str:
    """A dataset.name for the source's data: its folder, first archive or competition, made a
    safe folder name (letters, digits, '.', '_', '-'); my-data where none gives one."""
    source = dataset["source"]
    settings = dataset.get(source) or {}
    if source == "local":
        # the folder as resolved: a path "." or ending in "/" names it too
        raw = Path(str(settings.get("path") or "")).expanduser().resolve().name
    elif source == "url":
        archives = settings.get("archives") or [{"url": ""}]
        raw = ARCHIVE.sub("", PurePosixPath(unquote(urlparse(archives[0]["url"]).path)).name)
    else:
        raw = str(settings.get("competition") or "")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip(".-")
    return name if name and name.casefold() != BUILT_IN else "my-data"


def check_dataset_name(dataset: dict) -> str | None:
    """Why dataset.name cannot name a data set: the name of a resources/ folder the workflow
    keeps for itself (SHARED), or for one of one's own (source local, url or kaggle) the built-in
    name (the default), whose resources/ and results/ folders the built-in run writes; compared
    without case, as macOS's and Windows's file systems compare folder names."""
    name = dataset.get("name", BUILT_IN)  # the schema's default
    if (shared := name.casefold()) in SHARED:  # any source: the generated data is written too
        return (f"dataset.name {name}: resources/{shared}/ holds {SHARED[shared]}, and the data "
                f"set's files (downloads, manifest) would be written among them; name it "
                f"otherwise, e.g. dataset.name: {name}-data")
    if dataset["source"] == BUILT_IN or name.casefold() != BUILT_IN:
        return None
    return (f"dataset.name {name} is the built-in data set's (the default), but dataset.source "
            f"is {dataset['source']}: your data would be written into resources/{BUILT_IN}/ "
            f"and results/{BUILT_IN}/, over the built-in run's manifest, split, cache and "
            "models, and each run would then redo the other's; name your data set, e.g. "
            f"dataset.name: {suggested_name(dataset)}")


def folder_left_unread(dataset: dict) -> str | None:
    """Why a dataset.local.path under source synthetic is refused: the built-in shapes would be
    trained, scored and reported under the folder's name. The fix names dataset.name too where
    it is the built-in one, which check_dataset_name would refuse next."""
    path = (dataset.get("local") or {}).get("path")
    if dataset["source"] != BUILT_IN or not path:
        return None
    local = {**dataset, "source": "local"}
    name = (f" and dataset.name: {suggested_name(local)}" if check_dataset_name(local) else "")
    return (f"dataset.local.path is {path}, but dataset.source is synthetic (the default), which "
            f"generates the built-in shapes and does not read that folder; set dataset.source: "
            f"local{name} to use it, or, to run on the built-in shapes (a profile naming your "
            'folder), dataset.local.path: ""')
