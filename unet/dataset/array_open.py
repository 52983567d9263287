"""Opening an array file's array (.npy, .npz, HDF5, .mat, Zarr) by --key, lazily where the
format allows, with errors that name the file and what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet.common.imageio import ImageReadError
from unet.dataset.mat_files import is_v73, mat_classes, not_numeric, read_mat, refuse_empty
from unet.dataset.zarr_store import (
    ZARR_INSTALL,
    array_names,
    channels_last,
    full_resolution,
    is_zarr,
)

HDF5_INSTALL = "pip install -e '.[hdf5]' (or pip install h5py)"


class MissingArray(ValueError):
    """A --key the array file does not hold (the error lists what it holds)."""


class ArrayFileError(ImageReadError):
    """An array file that cannot be split: unreadable, of no array named, or of a shape or
    range unstack does not write."""


@contextmanager
def opened_array(path: Path, key: str | None) -> Iterator:
    """The array `path` holds (named by `key` in a .npz, HDF5 file or Zarr store), not read into
    memory where the format allows: a .npy memory-mapped, an HDF5 or Zarr array as indexed."""
    kind = path.suffix.lower()
    if kind == ".zarr" or is_zarr(path):
        yield _zarr_array(path, key)
    elif kind == ".npy":
        if key is not None:
            raise ValueError(f"{path} holds one array: --key is for .npz and .h5 files")
        yield _read(path, lambda: np.load(path, mmap_mode="r", allow_pickle=False))
    elif kind == ".npz":  # a zip member: read whole (np.savez_compressed's cannot be mapped)
        with _read(path, lambda: np.load(path, allow_pickle=False)) as npz:
            member = _pick(path, key, list(npz.files))  # a wrong key is no damaged file
            yield _read(path, lambda: npz[member])
    elif kind == ".mat":  # read whole: a label file holds one image's matrices
        if v73 := _read(path, lambda: is_v73(path)):  # read once, as the variables' classes
            _h5py(path)
        member = _pick(path, key, list(classes := _read(path, lambda: mat_classes(path, v73))))
        if why := not_numeric(path, member, classes):  # a char, cell, struct
            raise ArrayFileError(why)
        yield refuse_empty(path, member, _read(path, lambda: read_mat(path, member, v73)), classes)
    else:
        h5py = _h5py(path)
        with _read(path, lambda: h5py.File(path, "r")) as f:
            found = []
            f.visititems(lambda n, obj: found.append(n) if isinstance(obj, h5py.Dataset)
                         else None)
            yield f[_pick(path, key, found)]


def _read(path: Path, load):
    """load(), a damaged or foreign file's error naming it."""
    try:
        return load()
    except (OSError, ValueError, EOFError) as err:
        raise ArrayFileError(f"cannot read array file {path}: {err}. Check the file (a download "
                             "cut short?); nothing was split") from err


def _zarr_array(path: Path, key: str | None):
    """A Zarr store's array (an OME-Zarr image's full resolution by default), channels last."""
    try:
        import zarr
    except ImportError:
        raise ArrayFileError(f"{path} is a Zarr store, and reading one needs zarr: "
                             f"{ZARR_INSTALL}") from None
    if not path.is_dir():
        raise ArrayFileError(f"{path} is a file: a Zarr store is a folder (unzip a zipped one "
                             "first); nothing was split")
    names = _read(path, lambda: array_names(path))
    if not names:  # a folder named .zarr (or with a .zgroup) and no array: no --key helps
        raise ArrayFileError(f"{path} holds no Zarr array (no .zarray, nor zarr.json of an "
                             "array, in it or its folders): give a Zarr store's folder, e.g. "
                             "image.ome.zarr; nothing was split")
    if names == [""] and key is not None:
        raise ValueError(f"{path} is one Zarr array: --key is for a store of several")
    member = _pick(path, _read(path, lambda: full_resolution(path, key)), names)
    arr = _read(path, lambda: zarr.open_array(str(path / member), mode="r"))
    return channels_last(arr, path, member)


def _h5py(path: Path):
    try:
        import h5py
    except ImportError:
        raise ArrayFileError(f"{path} is an HDF5 file, and reading one needs h5py: "
                             f"{HDF5_INSTALL}") from None
    return h5py


def _pick(path: Path, key: str | None, names: list[str]) -> str:
    """The array named `key`, or the only one; else an error listing what the file holds."""
    listed = ", ".join(repr(n) for n in names[:12]) + (" ..." if len(names) > 12 else "")
    if key is None and len(names) == 1:
        return names[0]
    if key is None:
        raise ValueError(f"{path} holds {len(names)} arrays ({listed}): name one with --key, "
                         f"e.g. --key {names[0] if names else 'X'}")
    if key.strip("/") not in names:
        raise MissingArray(f"{path} has no array {key!r}; it holds {listed or 'none'}")
    return key.strip("/")
