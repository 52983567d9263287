"""Zarr stores for `unet unstack`: OME-Zarr (OME-NGFF) images and labels, plain Zarr arrays.

A store is a folder (`image.zarr`, `image.ome.zarr`): its arrays are found by their metadata
files (`.zarray`, or `zarr.json` of node_type array), never by listing chunks. A multiscale
image's group (the store, or `labels/nuclei`) stands for its first, full-resolution level.
OME-Zarr puts channels first (c,y,x; t,c,z,y,x): its arrays are read as unstack reads every
array, stacked planes first and channels last, a plane (and its channels) at a time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

ZARR_INSTALL = "pip install -e '.[zarr]' (or pip install zarr)"
_META = (".zarray", ".zgroup", "zarr.json")


def is_zarr(path: Path) -> bool:
    """Whether `path` is a Zarr store's folder (named .zarr, or holding Zarr metadata)."""
    path = Path(path)
    return path.is_dir() and (path.suffix.lower() == ".zarr"
                              or any(_is_metadata(path / m) for m in _META))


def _is_metadata(file: Path) -> bool:
    """Whether `file` is Zarr metadata (JSON naming its zarr_format): a stray empty .zgroup
    in a DICOM or image folder does not make it a store."""
    try:
        return isinstance(json.loads(file.read_text()).get("zarr_format"), int)
    except (OSError, ValueError, AttributeError):
        return False


def zarr_stem(path: Path) -> str:
    """The store's name without .zarr (and OME's .ome), also for a group inside it
    (img.ome.zarr/labels/nuclei: img), so that an image's and its labels' files pair."""
    for folder in (path, *path.parents):
        if folder.suffix.lower() == ".zarr":
            stem = folder.name[: -len(".zarr")]
            return stem[: -len(".ome")] if stem.lower().endswith(".ome") else stem
    return path.name


def _metadata(folder: Path) -> tuple[str | None, dict]:
    """The node's kind ('array', 'group' or None) and attributes, Zarr v2 or v3."""
    if (folder / "zarr.json").is_file():  # v3 (OME-NGFF 0.5): one file holds both
        meta = json.loads((folder / "zarr.json").read_text())
        return meta.get("node_type"), meta.get("attributes") or {}
    attrs = folder / ".zattrs"
    found = json.loads(attrs.read_text()) if attrs.is_file() else {}
    kind = "array" if (folder / ".zarray").is_file() else "group" if (
        folder / ".zgroup").is_file() else None
    return kind, found


def array_names(store: Path) -> list[str]:
    """The store's arrays as --key names them ('0', 'labels/nuclei/0'); [''] for a store
    that is one array. An array's folder is not descended into (its chunks may be many)."""
    names = []
    for folder, subfolders, _ in os.walk(store):
        if _metadata(Path(folder))[0] == "array":
            rel = Path(folder).relative_to(store).as_posix()
            names.append("" if rel == "." else rel)
            subfolders.clear()
        else:
            subfolders.sort()
    return names


def _multiscale(folder: Path) -> dict | None:
    """The first multiscales entry of a group's attributes (OME 0.5 nests them under 'ome')."""
    if not folder.is_dir():
        return None
    attrs = _metadata(folder)[1]
    found = attrs.get("ome", attrs).get("multiscales")
    return found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else None


def full_resolution(store: Path, key: str | None) -> str | None:
    """The array --key names: a multiscale image's group (no key: the store's own) as its
    first level, the full resolution; any other key as given."""
    group = (key or "").strip("/")
    found = _multiscale(store / group) if ".." not in group.split("/") else None
    if found and found.get("datasets"):
        return "/".join(p for p in (group, str(found["datasets"][0].get("path", ""))) if p)
    return key


def _axes(store: Path, member: str, ndim: int) -> list[str] | None:
    """The array's axes from its group's multiscales ('c' for a channel axis of any name), or
    None where it is no level of a multiscale image."""
    parts = member.split("/")
    for cut in range(len(parts) - 1, -1, -1):  # a level's path may have parts (s0/image)
        found = _multiscale(store.joinpath(*parts[:cut]))
        if found and "/".join(parts[cut:]) in [str(d.get("path")).strip("/")
                                               for d in found.get("datasets", [])]:
            break
    else:
        return None
    axes = found.get("axes")
    if axes is None:  # OME-NGFF 0.1 and 0.2 name none: their arrays are always t,c,z,y,x
        return list("tczyx") if ndim == 5 else None
    return ["c" if isinstance(a, dict) and a.get("type") == "channel" else
            str(a.get("name") if isinstance(a, dict) else a).lower() for a in axes]


def channels_last(arr, store: Path, member: str):
    """An OME-Zarr level as a ChannelsLast view; a plain Zarr array as stored (read as an
    HDF5 dataset is)."""
    axes = _axes(store, member, arr.ndim)
    return arr if axes is None else ChannelsLast(arr, axes, store / member)


class ChannelsLast:
    """An OME-Zarr array as unstack reads arrays: its stacked planes first (the t or z with
    more than one), then y, x, then its channels; an axis of one index left out."""

    def __init__(self, arr, axes: list[str], where: Path) -> None:
        shape = tuple(arr.shape)
        if len(axes) != len(shape):
            raise ValueError(f"{where}: its multiscales metadata names {len(axes)} axes "
                             f"({','.join(axes)}) for an array of shape {shape}")
        stacked = [i for i in range(len(shape) - 2) if axes[i] != "c" and shape[i] > 1]
        if len(stacked) > 1:
            raise ValueError(f"{where}: its axes {','.join(axes)} of shape {shape} stack planes "
                             f"along {' and '.join(axes[i] for i in stacked)}; unstack writes "
                             "2-D images along one: save one time point (or z) an array first")
        channels = [i for i, a in enumerate(axes) if a == "c" and shape[i] > 1]
        self._arr = arr
        self._order = [*stacked, len(shape) - 2, len(shape) - 1, *channels]  # view -> array axis
        self.shape = tuple(shape[i] for i in self._order)
        self.ndim, self.dtype = len(self.shape), np.dtype(arr.dtype)
        self.one_image = not stacked  # no planes to split: one image, written whole

    def __getitem__(self, index: tuple) -> np.ndarray:
        index = (*index, *(slice(None),) * (self.ndim - len(index)))
        source: list = [0] * self._arr.ndim  # axes of one index (t, z, c) at 0
        for at, axis in zip(index, self._order, strict=True):
            source[axis] = at
        page = np.asarray(self._arr[tuple(source)])  # kept axes, in the array's order
        kept = [axis for axis in self._order if isinstance(source[axis], slice)]
        return page.transpose(np.argsort(np.argsort(kept)))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[(slice(None),) * self.ndim]
        return whole if dtype is None else whole.astype(dtype)
