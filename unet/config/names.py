"""dataset.name: derived from the source where unset; the built-in data set's name is its own."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

BUILT_IN = "synthetic"  # config/config.yaml's dataset.name, the built-in generator's folders
# resources/ folders of the workflow's own, beside the data sets' resources/<dataset.name>/
SHARED = {"predict": "the folders of new images to predict (the predict_folder rule's)",
          "encoders": "the pretrained encoder weights (fetch_encoder_weights)"}
ARCHIVE = re.compile(r"(\.tar)?\.(zip|tar|tgz|gz|bz2|xz|tbz2|txz)$", re.I)
# the key a source's data set is named after where dataset.name is unset
NAMED_BY = {"local": "dataset.local.path", "url": "dataset.url.archives",
            "kaggle": "dataset.kaggle.competition"}


def suggested_name(dataset: dict) -> str:
    """A dataset.name for the source's data: its folder, first archive or competition, made a
    safe folder name (letters, digits, '.', '_', '-'); my-data where none gives one, and
    <name>-data for a resources/ folder of the workflow's own (SHARED)."""
    source = dataset["source"]
    settings = dataset.get(source) or {}
    if source == "local":
        # the folder as resolved: a path "." or ending in "/" names it too; none set is no
        # folder (not the working directory's, which "" would resolve to)
        path = str(settings.get("path") or "")
        raw = Path(path).expanduser().resolve().name if path else ""
    elif source == "url":
        archives = settings.get("archives") or [{"url": ""}]
        raw = ARCHIVE.sub("", PurePosixPath(unquote(urlparse(archives[0]["url"]).path)).name)
    else:
        raw = str(settings.get("competition") or "")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip(".-")
    if name.casefold() in SHARED:
        return f"{name}-data"
    return name if name and name.casefold() != BUILT_IN else "my-data"


def name_dataset(config: dict) -> str | None:
    """Fill an unset dataset.name in place, once the config is validated and before anything
    reads it: synthetic for the built-in source (the default run keeps its folders and
    params), else suggested_name's; returns the line to log where it was derived."""
    dataset = config["dataset"]
    if dataset.get("name") is not None:
        return None
    source = dataset["source"]
    if source == BUILT_IN:
        dataset["name"] = BUILT_IN
        return None
    dataset["name"] = suggested_name(dataset)
    return (f"dataset.name not set: results/{dataset['name']}/ (from {NAMED_BY[source]}); "
            "set dataset.name to choose")


def check_dataset_name(dataset: dict) -> str | None:
    """Why dataset.name cannot name a data set: the name of a resources/ folder the workflow
    keeps for itself (SHARED), or for one of one's own (source local, url or kaggle) the built-in
    name, set by hand (name_dataset never derives it), whose resources/ and results/ folders
    the built-in run writes; compared without case, as macOS's and Windows's file systems
    compare folder names."""
    name = dataset["name"]
    if (shared := name.casefold()) in SHARED:  # any source: the generated data is written too
        return (f"dataset.name {name}: resources/{shared}/ holds {SHARED[shared]}, and the data "
                f"set's files (downloads, manifest) would be written among them; name it "
                f"otherwise, e.g. dataset.name: {name}-data")
    if dataset["source"] == BUILT_IN or name.casefold() != BUILT_IN:
        return None
    return (f"dataset.name {name} is the built-in data set's, but dataset.source is "
            f"{dataset['source']}: your data would be written into resources/{BUILT_IN}/ "
            f"and results/{BUILT_IN}/, over the built-in run's manifest, split, cache and "
            "models, and each run would then redo the other's; name your data set, e.g. "
            f"dataset.name: {suggested_name(dataset)}, or remove dataset.name to name it "
            "after its source")


def folder_left_unread(dataset: dict) -> str | None:
    """Why a dataset.local.path under source synthetic is refused: the built-in shapes would be
    trained, scored and reported under the folder's name. Checked before name_dataset fills an
    unset name (then derived from the folder: source local alone suffices); the fix names
    dataset.name too where it is set by hand to one check_dataset_name would refuse next."""
    path = (dataset.get("local") or {}).get("path")
    if dataset["source"] != BUILT_IN or not path:
        return None
    local = {**dataset, "source": "local"}
    refused = local.get("name") is not None and check_dataset_name(local)
    name = f" and dataset.name: {suggested_name(local)}" if refused else ""
    return (f"dataset.local.path is {path}, but dataset.source is synthetic (the default), which "
            f"generates the built-in shapes and does not read that folder; set dataset.source: "
            f"local{name} to use it, or, to run on the built-in shapes (a profile naming your "
            'folder), dataset.local.path: ""')
