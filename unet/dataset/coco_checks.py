"""Checks of a COCO JSON that real exports (CVAT, Label Studio, Roboflow, converters) fail:
entries missing the keys COCO gives, all named at once."""

from __future__ import annotations

import json
from pathlib import Path

from unet.common.bad_files import listed
from unet.dataset.layout import DataLayoutError

# What each list's entries must hold ('segmentation' may be missing: a box only)
_KEYS = {"images": ("image", ("id", "file_name")),
         "annotations": ("annotation", ("image_id", "category_id")),
         "categories": ("category", ("id",))}


def load_coco(path: Path, section: str) -> dict:
    """The annotations JSON, its lists checked and every entry missing a key named at once."""
    if not path.is_file():
        raise DataLayoutError(f"{section}.coco.json: no file {path}; give the annotations JSON "
                              "(relative to the data folder)")
    try:
        with open(path, encoding="utf-8-sig") as f:  # a byte order mark from Windows tools
            data = json.load(f)
    except json.JSONDecodeError as err:  # cut off, or edited by hand
        raise DataLayoutError(f"{path} is not valid JSON ({err.msg} at line {err.lineno} "
                              f"column {err.colno}); download or export it again") from None
    except UnicodeDecodeError as err:
        raise DataLayoutError(f"{path} is not valid JSON (byte {err.start} is not UTF-8, "
                              "which JSON files are written in); save it as UTF-8") from None
    for part in _KEYS:
        if isinstance(data, dict) and isinstance(data.get(part), dict):
            data[part] = list(data[part].values())  # LIVECell's: an object keyed by id
        if not isinstance(data, dict) or not isinstance(data.get(part), list):
            raise DataLayoutError(f"{path} has no {part!r} list: not COCO annotations")
    bad = _missing(data)
    if len(bad) == 1:
        raise DataLayoutError(f"{path}: {bad[0].replace(': no ', ' has no ', 1)}, which COCO "
                              "annotations give; fix the JSON or export it again")
    if bad:  # an export's every bad entry at once, not one per rerun
        raise DataLayoutError("\n".join([
            f"{len(bad)} entries of {path.name} lack keys that COCO annotations give "
            f"({path}):", *listed(bad, "entries"), "Fix the JSON or export it again."]))
    return data


def _missing(data: dict) -> list[str]:
    """'annotation 2 (of a.png): no 'category_id'' for every entry missing a key; an image
    with only one of width and height too (without both, its file's size is taken)."""
    files = {str(im.get("id")): im.get("file_name") for im in data["images"]
             if isinstance(im, dict)}
    bad = []
    for part, (one, keys) in _KEYS.items():
        for n, entry in enumerate(data[part]):
            entry = entry if isinstance(entry, dict) else {}
            missing = [k for k in keys if k not in entry]
            if part == "images" and ("width" in entry) != ("height" in entry):
                missing.append("height" if "width" in entry else "width")
            if not missing:
                continue
            named = f"{one} {entry['id']}" if "id" in entry else f"{one} at index {n}"
            if part == "images" and "id" not in entry and "file_name" in entry:
                named = f"{one} {entry['file_name']}"
            if part == "annotations" and files.get(str(entry.get("image_id"))):
                named += f" (of {files[str(entry['image_id'])]})"
            bad.append(f"{named}: no {', '.join(repr(k) for k in missing)}")
    return bad
