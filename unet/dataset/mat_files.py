"""MATLAB `.mat` files (HoVer-Net's CoNSeP, Lizard labels): v5 through scipy, v7.3 through h5py.

A v7.3 file is HDF5 with a MATLAB header in its user block. MATLAB stores arrays column-major,
so h5py reads an H x W matrix as W x H: it is transposed back, every axis reversed, to give the
array MATLAB (and scipy.io.loadmat for a v5 file) shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_v73(path: Path) -> bool:
    """Whether `path` is a MATLAB v7.3 file (HDF5, its signature after the 512-byte header)."""
    with open(path, "rb") as f:
        head = f.read(520)
    return head.startswith(b"MATLAB 7.3") or _HDF5_SIGNATURE in (head[:8], head[512:520])


_NUMERIC = ("double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32",
            "uint32", "int64", "uint64")


def mat_classes(path: Path, v73: bool) -> dict[str, str]:
    """Each variable a .mat file holds, in file order, and its MATLAB class (double, char,
    cell, struct ...); v7.3 (`is_v73`): the top level, not the #refs# and #subsystem# groups
    MATLAB keeps cell contents and objects in."""
    if v73:
        import h5py

        with h5py.File(path, "r") as f:  # a struct is a group; each variable says its class
            return {k: _text(f[k].attrs.get("MATLAB_class", b"struct" if isinstance(
                f[k], h5py.Group) else b"double")) for k in f if not k.startswith("#")}
    import scipy.io

    return {name: cls for name, _, cls in scipy.io.whosmat(path)}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def not_numeric(path: Path, name: str, classes: dict[str, str]) -> str:
    """Why variable `name` cannot be written as an image (a char, cell or struct ...), or ''
    (`classes`: mat_classes')."""
    if classes.get(name, "double") in _NUMERIC:
        return ""
    numeric = [k for k, c in classes.items() if c in _NUMERIC]
    fix = (f"name a numeric matrix with --key ({', '.join(numeric)})" if numeric
           else "save the label matrices as numeric variables of their own")
    if classes[name] == "struct":
        fix += (f"; a struct's fields become variables of their own with MATLAB's "
                f"save(file, '-struct', '{name}')")
    return (f"{path}: '{name}' is a MATLAB {classes[name]}, not a numeric matrix, so it is no "
            f"image: {fix}")


def read_mat(path: Path, name: str, v73: bool) -> np.ndarray:
    """Matrix `name` of a .mat file as MATLAB shows it (a v7.3 file's transposed back)."""
    if v73:
        import h5py

        with h5py.File(path, "r") as f:
            if f[name].attrs.get("MATLAB_empty", 0):  # MATLAB's []: its size stored, as uint64
                dims = tuple(int(n) for n in np.asarray(f[name]).ravel()[::-1])
                return np.zeros(dims if 0 in dims else (0, 0))
            return np.asarray(f[name]).T
    import scipy.io

    return np.asarray(scipy.io.loadmat(path, variable_names=[name])[name])


def refuse_empty(path: Path, name: str, matrix: np.ndarray,
                 classes: dict[str, str]) -> np.ndarray:
    """`matrix`, or an error when it holds no values (MATLAB's []) naming the others."""
    if matrix.size:
        return matrix
    others = [k for k, c in classes.items() if k != name and c in _NUMERIC]
    fix = f"name another with --key ({', '.join(others)})" if others else "check the file"
    raise ValueError(f"{path}: '{name}' is an empty matrix (shape {matrix.shape}, MATLAB's []), "
                     f"no image: {fix}")
