"""`unstack` of arrays (.npy, .npz, .h5/.hdf5, .mat): one 2-D file per index along an axis.

Many data sets ship as arrays rather than image files: PanNuke's folds (images.npy, masks.npy),
CREMI's and Lucchi++'s EM volumes in HDF5 (volumes/raw), Kaggle kernels' .npz of X and Y,
HoVer-Net's CoNSeP and Lizard labels in MATLAB .mat files (a 2-D array: one file). Each
becomes <stem>_000 ... as a NIfTI volume does, so that images and masks pair by stem. A .npy is
memory-mapped and an HDF5 dataset read a slice at a time: PanNuke's masks of one fold are 2.4 GB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import check_folder, disk_errors
from unet.dataset.array_classes import (
    check_background,
    class_map,
    overlap_note,
    refuse_unnamed_background,
)
from unet.dataset.array_open import ArrayFileError, MissingArray, opened_array
from unet.dataset.instance_classes import InstanceClasses
from unet.dataset.unstack import moved_in_whole, refuse_taken, slice_name
from unet.dataset.zarr_store import is_zarr, zarr_stem

ARRAY_KINDS = (".npy", ".npz", ".h5", ".hdf5", ".mat", ".zarr")
# Written as stored: 8- and 16-bit as PNG, the rest as TIFF. 64-bit integers (CREMI's uint64
# neuron ids) are narrowed to the first of these that holds them; whole floats (PanNuke's
# float64 0-255 pixels, Keras' float masks) to the first of the last four.
_NARROW = (np.uint8, np.uint16, np.uint32, np.int16, np.int32)
_WHOLE_FLOATS = (np.uint8, np.uint16, np.int16, np.int32)


def is_array(path: Path) -> bool:
    """Whether `path` is named as an array file unstack splits (.npy, .npz, .h5, .hdf5, .mat),
    or is a Zarr store (a .zarr folder, or a group or array inside one)."""
    return Path(path).suffix.lower() in ARRAY_KINDS or is_zarr(path)


def unstack_array(path: str | Path, out_dir: str | Path, key: str | None = None, axis: int = 0,
                  name: str | None = None, classes: str | None = None,
                  background: int | None = None, instance_classes: str | None = None,
                  instance_ids: str | None = None, *,
                  as_type: np.dtype | None = None) -> tuple[list[Path], str]:
    """Write each index of the array along `axis` to `out_dir` as <name>_<k> (name: the file's
    stem; a 2-D array whole, as <name>), values kept; with classes='channels' each slice's
    channels (one-hot, or instance ids per class) as one class map; with `instance_classes`
    (the file's per-instance class vector, ids from `instance_ids`) an instance map's classes;
    `as_type`: the type to write its values in (joint_type's, several files'), else its own.
    Returns the files and a note (overlapping classes) or ''.
    All files appear, or none: existing files are never overwritten."""
    path, out_dir = Path(path), Path(out_dir)
    if not path.is_file() and not is_zarr(path):
        raise FileNotFoundError(f"{path}: no such file")
    if background is not None and classes != "channels":
        raise ValueError("--background names the channel that is no class: it goes with "
                         "--classes channels")
    stem = array_stem(path, name)
    check_folder(out_dir)
    lookup = _lookup(path, key, instance_classes, instance_ids, classes)
    with opened_array(path, key) as arr:
        # one image (a .mat's label map, an OME-Zarr image of one plane), not rows to split
        whole = arr.ndim == 2 or getattr(arr, "one_image", False)
        arr, axis = (np.asarray(arr)[None], _whole(arr, axis, path)) if whole else (arr, axis)
        axis = _axis(arr, axis, path)
        dtype, colour, png = _page_format(arr, axis, path, classes, background, lookup,
                                          as_type)
        ext = ".png" if png else ".tif"
        depth = arr.shape[axis]
        names = [stem + ext] if whole else [slice_name(stem, k, depth, ext) for k in range(depth)]
        refuse_taken(out_dir, names)
        pages = slices(arr, axis) if lookup is None else map(lookup.map, slices(arr, axis))
        overlaps = []
        with moved_in_whole(out_dir, names, f"unstack-{stem}") as scratch:
            for page, file in zip(pages, names, strict=True):
                if classes == "channels":
                    page, overlap = class_map(page, background)
                    overlaps.append(overlap)
                if page.ndim == 3 and page.shape[2] == 1:  # Keras' (H, W, 1) masks: grey
                    page = page[:, :, 0]
                with disk_errors(out_dir / file):
                    _write(scratch / file, np.ascontiguousarray(page, dtype), png, colour)
    return [out_dir / n for n in names], overlap_note(overlaps, names)


def _whole(arr, axis: int, path: Path) -> int:
    """Axis 0 of a 2-D array made one image; a vector (N x 1, Lizard's class) is no image."""
    if 1 in arr.shape:
        raise ValueError(f"{path}: its array is of shape {arr.shape}, a vector (Lizard's class), "
                         "no image: --key an image's (inst_map), the vector to --instance-classes")
    if axis != 0:
        raise ValueError(f"{path}: its array is 2-D, one image, written whole: leave out "
                         f"--axis {axis}")
    return 0


def _page_format(arr, axis: int, path: Path, classes: str | None, background: int | None,
                 lookup: InstanceClasses | None,
                 as_type: np.dtype | None = None) -> tuple[np.dtype, bool, bool]:
    """The type every slice is written in, whether it is colour, and whether as PNG."""
    page_shape = arr.shape[:axis] + arr.shape[axis + 1:]
    if lookup is not None:
        if len(page_shape) != 2:
            raise ValueError(f"{path}: its slices are of shape {page_shape}: --instance-classes "
                             "reads a 2-D instance map (--key inst_map)")
        lookup.check(slices(arr, axis))  # read ahead: an unknown id refused, nothing made yet
        return lookup.dtype, False, True
    if classes == "channels":
        check_background(page_shape, background, path)
        if background is None:  # read ahead as _written_type does: nothing made yet
            refuse_unnamed_background(slices(arr, axis), path)
        dtype, colour = np.dtype(np.uint8), False
    else:
        colour = _page_kind(page_shape, path)
        dtype = _written_type(arr, axis, path) if as_type is None else np.dtype(as_type)
    grey = classes == "channels" or len(page_shape) == 2 or page_shape[2] == 1
    # Pillow writes 8-bit grey or colour PNGs and 16-bit grey ones, no 16-bit colour
    return dtype, colour, bool(dtype == np.uint8 and (grey or colour) or dtype == np.uint16
                               and grey)


def _lookup(path: Path, key: str | None, classes_key: str | None, ids_key: str | None,
            classes: str | None) -> InstanceClasses | None:
    """The instance-to-class table from the file's per-instance vectors (ids: `ids_key`, else
    the file's 'id' where it holds one, else 1, 2, ... in the classes' order)."""
    if classes_key is not None and path.suffix.lower() == ".npy":
        raise ValueError(f"{path}: a .npy holds one array, no per-instance vectors for "
                         "--instance-classes: save the instance map and its class vector "
                         "together in a .npz (np.savez) or .mat")
    if classes_key is None:
        if ids_key is not None:
            raise ValueError("--instance-ids goes with --instance-classes (Lizard: --key "
                             "inst_map --instance-classes class)")
        return None
    if classes is not None or key is None:
        raise ValueError("--instance-classes maps the instance map named by --key (--key "
                         "inst_map) to classes; it does not go with --classes")
    with opened_array(path, classes_key) as found:
        vector = np.asarray(found)
    ids = None
    try:
        with opened_array(path, ids_key or "id") as found:
            ids, ids_key = np.asarray(found), ids_key or "id"
    except MissingArray:
        if ids_key is not None:
            raise
    return InstanceClasses(path, key, vector, classes_key, ids, ids_key)


def array_stem(path: Path, name: str | None) -> str:
    """The stem of the files written for `path`: --name, else the file's (a store's) own."""
    if name is None:
        return zarr_stem(path) if is_zarr(path) else _file_stem(path)
    if not name or name != Path(name).name or name in (".", ".."):
        raise ValueError(f"--name {name!r} is not a file name: give the slices' stem, e.g. "
                         "fold1 (no folder)")
    return name


def _file_stem(path: Path) -> str:
    """The file's stem, an array saved again as HDF5 counted whole: TransUNet's Synapse test
    volumes case0001.npy.h5 are case0001, as its test_vol.txt names them."""
    inner = Path(path.stem)
    if path.suffix.lower() in (".h5", ".hdf5") and inner.suffix.lower() in (".npy", ".npz"):
        return inner.stem or path.stem
    return path.stem


def _axis(arr, axis: int, path: Path) -> int:
    if not -arr.ndim <= axis < arr.ndim or arr.ndim < 3:
        raise ValueError(f"{path} holds an array of shape {arr.shape}: --axis {axis} does not "
                         "leave 2-D slices (give --axis from 0 to ndim - 1 of a 3-D or 4-D "
                         "array)")
    if arr.ndim == 3 and axis == 0 and arr.shape[2] in (3, 4) and arr.shape[0] > 4:
        # one H x W x 3 colour image, or a MATLAB H x W x D volume of 3 slices: rows of W x 3
        # are neither, and which of the two it is the file does not say
        raise ValueError(f"{path} holds an array of shape {arr.shape}: along axis 0 it would "
                         f"be {arr.shape[0]} rows of {arr.shape[1]} x {arr.shape[2]}; give "
                         "--axis 2 for its slices (or channels) as grey images, or save one "
                         "colour image as a PNG or TIFF, which needs no unstacking")
    if arr.shape[axis % arr.ndim] == 0:
        raise ArrayFileError(f"{path} holds no slices (shape {arr.shape}): nothing to split")
    return axis % arr.ndim


def _page_kind(shape: tuple[int, ...], path: Path) -> bool:
    """Whether a slice of `shape` is a colour image (channels last, 3 or 4); other slices are
    grey or multi-channel, channels last. Channels first, or more dimensions, refused."""
    if len(shape) == 2 or len(shape) == 3 and shape[2] == 1:
        return False
    if len(shape) != 3:
        raise ValueError(f"{path}: its slices are of shape {shape}: unstack writes 2-D slices, "
                         "channels last; pick the axis with --axis, or save fewer dimensions")
    if shape[0] in (1, 3, 4) and shape[2] > 4:
        raise ValueError(f"{path}: its slices are of shape {shape}, channels first (PyTorch's "
                         "C, H, W): save them channels last first, np.moveaxis(a, 1, -1)")
    return shape[2] in (3, 4)


def slices(arr, axis: int) -> Iterator[np.ndarray]:
    """Each index of `arr` along `axis` as an array, read one at a time (never the whole)."""
    for k in range(arr.shape[axis]):
        yield np.asarray(arr[(slice(None),) * axis + (k,)])


def _written_type(arr, axis: int, path: Path) -> np.dtype:
    """The type every slice is written in: as stored, but 64-bit integers (a .mat's, any)
    narrowed to what holds them (else refused, naming the maximum) and floats of whole values
    to integers (PanNuke's float64 0-255: uint8), other floats float32. One type for all."""
    dtype = _numbers(arr, path)
    if _as_stored(dtype, path):
        return dtype
    return _chosen_type(dtype, *_value_range(arr, axis), path)


def joint_type(paths: list[Path], key: str | None) -> np.dtype:
    """The one type the slices of all `paths` are written in, as `_written_type` chooses it for
    their values together: a Synapse slice of air (all 0, or 0 and 1) among [0, 1] floats is a
    float TIFF as they are, not an 8-bit PNG that reads as 1/255 of the range."""
    dtypes, low, high, whole, top = [], np.inf, -np.inf, True, paths[0]
    for path in paths:  # a pass a file: none is written until every one is read
        with opened_array(path, key) as arr:
            dtypes.append(_numbers(arr, path))
            if 0 in arr.shape:  # refused as it is split, naming it
                continue
            # integers kept as stored are read for no range: their type's stands for it
            got = ((np.iinfo(dtypes[-1]).min, np.iinfo(dtypes[-1]).max, True)
                   if _as_stored(dtypes[-1], path) else
                   _value_range(arr, 0 if arr.ndim > 2 else None))
        top = path if got[1] > high else top  # the one to name where the range is too wide
        low, high, whole = min(low, got[0]), max(high, got[1]), whole and got[2]
    dtype = np.result_type(*dtypes)
    if all(_as_stored(d, p) for d, p in zip(dtypes, paths, strict=True)):
        return dtype
    return _chosen_type(dtype, low, high, whole, top)


def _numbers(arr, path: Path) -> np.dtype:
    """The array's type, refused unless numbers (bool written as uint8)."""
    dtype = np.dtype(arr.dtype)
    if dtype == np.bool_:
        return np.dtype(np.uint8)
    if dtype.kind not in "iuf":
        raise ArrayFileError(f"{path} holds {dtype} values: unstack writes numbers")
    return dtype


def _as_stored(dtype: np.dtype, path: Path) -> bool:
    """Whether integers are written as stored, read for no range: up to 32 bits, not a .mat's
    (MATLAB saves labels as double or int32, so its type says little: narrowed as 64-bit)."""
    return dtype.kind in "iu" and dtype.itemsize <= 4 and path.suffix.lower() != ".mat"


def _value_range(arr, axis: int | None) -> tuple[float, float, bool]:
    """The array's lowest and highest value and whether all are whole, a slice at a time along
    `axis` (None: a 2-D array, read whole)."""
    low, high, whole = np.inf, -np.inf, True
    float_ = np.dtype(arr.dtype).kind == "f"
    for page in [np.asarray(arr)] if axis is None else slices(arr, axis):
        low, high = min(low, page.min()), max(high, page.max())
        whole = whole and (not float_ or bool(np.array_equal(page, np.round(page))))
    return low, high, whole


def _chosen_type(dtype: np.dtype, low: float, high: float, whole: bool, path: Path) -> np.dtype:
    """The smallest integer type that holds low..high (floats: if all whole), else float32 for
    floats; integers wider than 32 bits refused, naming the maximum."""
    if dtype.kind == "f" and not (whole and np.isfinite(low) and np.isfinite(high)):
        return np.dtype(np.float32)
    for kind in _WHOLE_FLOATS if dtype.kind == "f" else _NARROW:
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return np.dtype(kind)
    if dtype.kind == "f":
        return np.dtype(np.float32)
    raise ArrayFileError(f"{path} holds values from {low} to {high} (max {high}), beyond what "
                         "a 32-bit TIFF holds: relabel them (e.g. ids in order of appearance, "
                         "skimage.segmentation.relabel_sequential) first")


def _write(file: Path, page: np.ndarray, png: bool, colour: bool) -> None:
    if png:  # grey (8- or 16-bit) or RGB(A)
        Image.fromarray(page).save(file, format="PNG")
    else:  # signed, 32-bit, float, or several channels (each an input channel unless colour)
        tifffile.imwrite(file, page, photometric="rgb" if colour else "minisblack",
                         planarconfig="contig" if page.ndim == 3 else None)
