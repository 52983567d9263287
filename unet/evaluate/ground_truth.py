"""evaluate.ground_truth: the test split scored against masks other than the training ones
(ISPRS's eroded `_noBoundary` ground truth, whose black class borders are not scored)."""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path

from unet.common.labels import MaskMapping


def truth_folder(ground_truth: dict, manifest: dict) -> Path:
    """The folder of the other masks: `~` expanded, a relative one under the data folder
    (dataset.local.path, the manifest's root), else under the working directory."""
    folder = Path(ground_truth["masks"]).expanduser()
    root = manifest.get("root")
    return folder if folder.is_absolute() or not root else Path(root) / folder


def truth_paths(ids: list[str], ground_truth: dict, manifest: dict) -> dict[str, str]:
    """Each test id's mask in the folder, `<id><suffix>.<any extension>`; one missing or two
    of one id are refused, naming the id, the folder and the fix."""
    folder, suffix = truth_folder(ground_truth, manifest), ground_truth.get("suffix", "")
    if not folder.is_dir():
        raise FileNotFoundError(f"evaluate.ground_truth.masks: no folder {folder}; name it "
                                "relative to dataset.local.path or absolute")
    found = {}
    for i in ids:
        hits = sorted(p for p in folder.glob(f"{glob.escape(i + suffix)}.*") if p.is_file())
        if len(hits) != 1:
            what = "no mask" if not hits else f"{len(hits)} masks ({hits[0].name}, {hits[1].name})"
            raise FileNotFoundError(
                f"evaluate.ground_truth: test image {i} has {what} named {i}{suffix}.* in "
                f"{folder}; every test image needs one there: set split.test_ids to the images "
                "it holds masks of, or evaluate.ground_truth.suffix to the names' ending")
        found[i] = str(hits[0])
    return found


def truth_files(ground_truth: dict | None, local_root: str | None) -> list[str]:
    """The files of evaluate.ground_truth's folder that its suffix names, for evaluate_masks'
    input (editing one reruns the evaluation), where the folder is known before the data set
    is fetched: absolute, or relative to a local data set's folder (`local_root`); else []."""
    if not ground_truth:
        return []
    folder = Path(ground_truth["masks"]).expanduser()
    if not folder.is_absolute():
        if local_root is None:
            return []  # under a download's folder: not there while the rules are read
        folder = Path(local_root).expanduser() / folder
    if not folder.is_dir():
        return []  # truth_paths refuses it in the job, naming the folder
    pattern = f"*{glob.escape(ground_truth.get('suffix', ''))}.*"
    return sorted(str(p) for p in folder.glob(pattern) if p.is_file())


def truth_mapping(mapping: MaskMapping, ground_truth: dict) -> MaskMapping:
    """The classes read from the other masks: `ignore` (a colour [r, g, b] or a grey level)
    in place of masks.ignore, e.g. [0, 0, 0] for ISPRS's black borders."""
    ignore = ground_truth.get("ignore")
    if ignore is None:
        return mapping
    if mapping.rgb:  # colour masks' values are packed 0xRRGGBB; a grey level g is (g, g, g)
        r, g, b = ignore if isinstance(ignore, list) else (ignore,) * 3
        return dataclasses.replace(mapping, ignore=(r << 16) | (g << 8) | b)
    if isinstance(ignore, list):
        raise ValueError(f"evaluate.ground_truth.ignore {ignore} is a colour, but the masks hold "
                         "grey levels: give the grey value not scored (an integer)")
    return dataclasses.replace(mapping, ignore=ignore)


def with_truth(ids: list[str], by_id: dict, mapping: MaskMapping, ground_truth: dict | None,
               manifest: dict) -> tuple[dict, MaskMapping, dict | None]:
    """The manifest's pairs by id with the test ids' masks swapped for evaluate.ground_truth's,
    the mapping that reads them, and the setting to record (its folder resolved); unchanged
    and None without it."""
    if not ground_truth:
        return by_id, mapping, None
    paths = truth_paths(ids, ground_truth, manifest)
    by_id = {i: {**pair, "mask": paths[i]} if i in paths else pair for i, pair in by_id.items()}
    record = {**ground_truth, "masks": str(truth_folder(ground_truth, manifest))}
    return by_id, truth_mapping(mapping, ground_truth), record
