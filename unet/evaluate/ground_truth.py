"""evaluate.ground_truth: the test split scored against masks other than the training ones
(ISPRS's eroded `_noBoundary` ground truth, whose black class borders are not scored)."""

from __future__ import annotations

import dataclasses
import glob
from importlib import import_module
from pathlib import Path

from unet.common.labels import MaskMapping

GROUP = "{group}"  # as in dataset.local's folders: the sequence's or patient's folder level


def truth_folder(ground_truth: dict, manifest: dict) -> Path:
    """The folder of the other masks: `~` expanded, a relative one under the data folder
    (dataset.local.path, the manifest's root), else under the working directory."""
    folder = Path(ground_truth["masks"]).expanduser()
    root = manifest.get("root")
    return folder if folder.is_absolute() or not root else Path(root) / folder


def _named(ids: list[str], ground_truth: dict, manifest: dict,
           dataset: dict | None) -> dict[str, tuple[Path, str]]:
    """Each test id's folder and its name there: the id, or with {group} in masks, as
    dataset.local's own group code splits it (02_003: folder 02_GT/SEG, name 003)."""
    if GROUP not in ground_truth["masks"]:
        return {i: (truth_folder(ground_truth, manifest), i) for i in ids}
    # By name, as dataset.per_id loads dataset.groups: only a {group} truth lists them as code
    layout = import_module("unet.dataset.layout").layout_from(
        (dataset or {}).get("settings", {}), (dataset or {}).get("source", "local"))
    if GROUP not in layout.images:
        raise ValueError(
            f"evaluate.ground_truth.masks {ground_truth['masks']!r} has {GROUP}, but "
            f"{layout.section}.images {layout.images!r} has none: the test ids name no group; "
            "write the masks' folder itself")
    wanted = set(ids)  # once: a set built per pair made 20,000 pairs x 2,000 ids take 3 s
    pairs = [(p["id"], p["image"], None) for p in manifest["pairs"] if p["id"] in wanted]
    each = import_module("unet.dataset.per_id").group_templates(
        Path(manifest["root"]), layout, pairs, [ground_truth["masks"]])
    return {i: (truth_folder({"masks": ts[0]}, manifest), fid) for i, (fid, ts) in each.items()}


def truth_paths(ids: list[str], ground_truth: dict, manifest: dict,
                dataset: dict | None = None) -> dict[str, str]:
    """Each test id's mask, `<prefix><id><suffix>.<any extension>` in the folder (its file id
    in its group's folder where masks has {group}, `dataset`: the data set's source and
    settings); one missing or two of one id are refused, naming the id, the folder and the fix."""
    prefix, suffix = ground_truth.get("prefix", ""), ground_truth.get("suffix", "")
    found = {}
    for i, (folder, name) in _named(ids, ground_truth, manifest, dataset).items():
        if not folder.is_dir():
            raise FileNotFoundError(f"evaluate.ground_truth.masks: no folder {folder} (for test "
                                    f"image {i}); name it relative to dataset.local.path or "
                                    "absolute")
        pattern = glob.escape(prefix + name + suffix)
        hits = sorted(p for p in folder.glob(f"{pattern}.*") if p.is_file())
        if len(hits) != 1:
            what = "no mask" if not hits else f"{len(hits)} masks ({hits[0].name}, {hits[1].name})"
            raise FileNotFoundError(
                f"evaluate.ground_truth: test image {i} has {what} named {prefix}{name}{suffix}.* "
                f"in {folder}; every test image needs one there: set split.test_ids to the "
                "images it holds masks of, or evaluate.ground_truth.prefix and suffix to the "
                "names' start and end")
        found[i] = str(hits[0])
    return found


def _truth_dirs(folder: Path, root: str | None, layout: object | None) -> list[Path]:
    """The folders `folder` names: itself, or with {group} each of the data set's groups'
    (`layout`'s under `root`, as the evaluation names them), else (layout unknown) every folder
    it matches, {group} one to three levels deep (CTC's 02_GT/SEG; LoveDA's Train/Urban)."""
    if GROUP not in str(folder):
        return [folder] if folder.is_dir() else []
    if layout is not None and root is not None and GROUP in layout.images:
        groups = import_module("unet.dataset.groups")  # by name, as _named loads them
        try:
            names = groups.find_groups(Path(root).expanduser(), layout)[0]
        except groups.DataLayoutError:  # no group: the download refuses it, naming the layout
            return []
        dirs = [Path(str(folder).replace(GROUP, g)) for g in names]
        return [d for d in dirs if d.is_dir()]
    parts = [glob.escape(p) for p in str(folder).split(GROUP)]
    found = {p for n in (1, 2, 3) for p in glob.glob("/".join(["*"] * n).join(parts))}
    return [Path(p) for p in sorted(found) if Path(p).is_dir()]


def truth_files(ground_truth: dict | None, local_root: str | None,
                layout: object | None = None) -> list[str]:
    """The files of evaluate.ground_truth's folder (each {group}'s: of the groups that the local
    data set's `layout`, a unet.dataset.layout.Layout, finds) that its prefix and suffix name,
    for evaluate_masks' input (editing one reruns the evaluation), where the folder is known
    before the data set is fetched: absolute, or relative to a local data set's folder
    (`local_root`); else []."""
    if not ground_truth:
        return []
    folder = Path(ground_truth["masks"]).expanduser()
    if not folder.is_absolute():
        if local_root is None:
            return []  # under a download's folder: not there while the rules are read
        folder = Path(local_root).expanduser() / folder
    # a missing folder lists none: truth_paths refuses it in the job, naming the folder
    pattern = "*".join(glob.escape(ground_truth.get(k) or "") for k in ("prefix", "suffix"))
    return sorted(str(p) for d in _truth_dirs(folder, local_root, layout)
                  for p in d.glob(f"{pattern}.*") if p.is_file())


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
               manifest: dict, dataset: dict | None = None,
               ) -> tuple[dict, MaskMapping, dict | None]:
    """The manifest's pairs by id with the test ids' masks swapped for evaluate.ground_truth's,
    the mapping that reads them, and the setting to record (its folder resolved); unchanged
    and None without it."""
    if not ground_truth:
        return by_id, mapping, None
    paths = truth_paths(ids, ground_truth, manifest, dataset)
    by_id = {i: {**pair, "mask": paths[i]} if i in paths else pair for i, pair in by_id.items()}
    record = {**ground_truth, "masks": str(truth_folder(ground_truth, manifest))}
    return by_id, truth_mapping(mapping, ground_truth), record
