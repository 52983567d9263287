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


def mat_names(path: Path) -> list[str]:
    """The matrices a .mat file holds, in file order (v7.3: the top-level datasets, not the
    #refs# group MATLAB keeps cell contents in)."""
    if is_v73(path):
        import h5py

        with h5py.File(path, "r") as f:
            return [k for k in f if isinstance(f[k], h5py.Dataset)]
    import scipy.io

    return [name for name, _, _ in scipy.io.whosmat(path)]


def read_mat(path: Path, name: str) -> np.ndarray:
    """Matrix `name` of a .mat file as MATLAB shows it (a v7.3 file's transposed back)."""
    if is_v73(path):
        import h5py

        with h5py.File(path, "r") as f:
            return np.asarray(f[name]).T
    import scipy.io

    return np.asarray(scipy.io.loadmat(path, variable_names=[name])[name])
