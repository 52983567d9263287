"""One image's prediction written as it is computed: probabilities and mask, band by band.

At native size the bands go straight into memory-mapped files (the probabilities' `.npy` and
the mask's values), so a 8192x8192 image never sits whole in memory; the PNG is then encoded
from the mapped values. Bands at another resolution (a scaled cache) are gathered in a
memory-mapped temporary file (columns: in their own scratch, below) and resized to the
original size band by band at the end (upsample.py), so memory does not grow with the original
either. Files appear under their names only when whole. Small images (IN_MEMORY) are held in
memory and each output written once: maps, their scratch files and an msync per image cost
35 ms a 32x32 tile.

A wide image's sliding window hands out columns. Written into the row-major maps, each column
band dirtied a page of every row again, and the kernel's writeback (of pages dirty for 30 s)
wrote them out between bands: a 6000x4500 image wrote 1,859 MB for 189 MB of outputs. Column
bands (at either size) are appended to a scratch file instead (each byte written once) and
copied into the maps rows at a time at the end, or at a scaled cache's size resized from it
directly. At the original size the copy stays (2x the probabilities' bytes, not 1x): the
scratch is column-major, the `.npy` row-major, and writing rows once each needs every column
of them, i.e. the whole image in memory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import torch

from unet.common.argmax import class_index
from unet.common.fileio import disk_errors, make_folder, reserve, temp_beside
from unet.common.labels import MaskMapping
from unet.common.probs import check_mask_room
from unet.common.roi import read_roi
from unet.infer.tiles import Window, column_bands
from unet.infer.upsample import resized_bands

# Below this many bytes of probabilities an image's arrays are held in memory, not mapped: a
# 512x512 image of 2 classes (1 MiB), far from the sizes whose memory must stay flat.
IN_MEMORY = 1 << 20
ROWS_BYTES = 16 << 20  # the rows of a strip-major scratch copied into the maps at a time


def _small(classes: int, cached: tuple[int, int], original: tuple[int, int]) -> bool:
    """Whether an image's arrays are held in memory (no maps, no column scratch)."""
    return 2 * classes * max(original[0] * original[1], cached[0] * cached[1]) < IN_MEMORY


def column_scratch(classes: int, cached: tuple[int, int], original: tuple[int, int],
                   columns: bool) -> int:
    """Bytes of the scratch file the writer of an image's probabilities fills with its bands
    of `columns` (tiles.column_bands) beside them, removed once the image is written: float16
    probabilities at the original (h, w), or float32 ones at the cached size to resize."""
    if not columns or _small(classes, cached, original):
        return 0
    if tuple(cached) == tuple(original):
        return 2 * classes * original[0] * original[1]
    return 4 * classes * cached[0] * cached[1]


def scratch_bytes(classes: int, cached: tuple[int, int], original: tuple[int, int],
                  columns: bool, value_bytes: int = 1, probs: bool = True) -> int:
    """Bytes of all the scratch files the writer of an image holds beside its probabilities
    until it is written: the mask's values (`value_bytes` a pixel) at the original (h, w), the
    float32 probabilities at the cached size to resize, and the column scratch (of the mask's
    values where no probabilities are saved, `probs` False: predict_folder)."""
    if _small(classes, cached, original):
        return 0
    held = value_bytes * original[0] * original[1]
    if tuple(cached) != tuple(original):  # in a map, or (all columns) in the column scratch
        return held + 4 * classes * cached[0] * cached[1]
    if columns and not probs:
        return 2 * held
    return held + column_scratch(classes, cached, original, columns)


def check_masks_room(out_dir: Path, names: list[str], fulls: list[tuple[int, int]],
                     inputs: list[tuple[int, int]], mapping: MaskMapping, window: Window | None,
) -> None:
    """check_mask_room for masks `names` of (W, H) `fulls`, (w, h) `inputs`, whole or `window`."""
    value = mapping.to_values(np.zeros(1, np.uint8)).itemsize  # a pixel of the mask's values
    held = []
    for name, (w, h), (iw, ih) in zip(names, fulls, inputs, strict=True):
        cached = (ih, iw) if window else (h, w)  # whole images: resized before the writer
        columns = bool(window) and column_bands(*cached, window)
        held.append((name, value * w * h + scratch_bytes(  # the PNG: at most its values
            mapping.num_classes, cached, (h, w), columns, value, probs=False)))
    check_mask_room(out_dir, held)


class PredictionWriter:
    """Context manager taking bands (C, rows, cols) of an image's probabilities (rows top to
    bottom, or columns left to right), at its cached (h, w); writes the mask PNG (and the
    probabilities' `.npy` unless None) at its original (H, W). Outside the region of interest
    `roi` (a file, or None) both say class 0: the network was never taught there."""

    def __init__(
        self,
        mask_path: str | os.PathLike,
        probs_file: str | os.PathLike | None,
        mapping: MaskMapping,
        cached: tuple[int, int],
        original: tuple[int, int],
        roi: str | os.PathLike | None = None,
    ) -> None:
        self.mask_path, self.mapping = Path(mask_path), mapping
        self.roi = roi
        self.probs_file = Path(probs_file) if probs_file else None
        self.cached, self.original = tuple(cached), tuple(original)
        self.stream = self.cached == self.original
        self._tmp: list[Path] = []
        self._finals: list[Path] = []  # the output each scratch file is for
        self._strips: list[tuple[int, int]] | None = None  # column bands' (x, cols), in order

    def __enter__(self) -> PredictionWriter:
        try:
            with disk_errors(self.mask_path):
                self._open()
        except BaseException:  # __exit__ does not run: drop the files made so far
            self._drop()
            raise
        return self

    def _open(self) -> None:
        c, (h, w) = self.mapping.num_classes, self.original
        self._outside = None if self.roi is None else ~read_roi(self.roi, (h, w), self.roi)
        small = _small(c, self.cached, self.original)
        make_folder(self.mask_path.parent)  # unwritable: an error now
        if self.probs_file:
            self._probs_tmp = self._temp(self.probs_file)
            if small:  # written whole at the end; its room is taken now, as a map's is
                self._probs = np.zeros((c, h, w), np.float16)
                os.truncate(self._probs_tmp, self._probs.nbytes + 128)
            else:
                self._probs = np.lib.format.open_memmap(
                    self._probs_tmp, mode="w+", dtype=np.float16, shape=(c, h, w)
                )
        dtype = self.mapping.to_values(np.zeros(1, np.uint8)).dtype
        self._values = (np.zeros((h, w), dtype) if small else
                        np.memmap(self._temp(self.mask_path), mode="w+", dtype=dtype, shape=(h, w)))
        if not small:  # column bands, if any, go to a scratch file
            self._strips = []
        # the cached-size bands, resized at the end; mapped at the first band of rows (bands
        # of columns are resized from their scratch: copied into a map, written twice)
        self._cached = None if self.stream or not small else np.zeros((c, *self.cached),
                                                                      np.float32)
        for path, final in zip(self._tmp, self._finals, strict=True):  # the maps are sparse:
            reserve(path, final)  # a full disk is an error now, naming the output, not a SIGBUS

    def _cached_map(self) -> np.ndarray:
        """The cached-size float32 map the bands are gathered in, made at its first use."""
        if self._cached is None:
            path = self._temp(self.mask_path)
            self._cached = np.memmap(path, mode="w+", dtype=np.float32, shape=(
                self.mapping.num_classes, *self.cached))
            reserve(path, self.mask_path)
        return self._cached

    def _temp(self, final: Path) -> Path:
        self._tmp.append(temp_beside(final))
        self._finals.append(final)
        return self._tmp[-1]

    def _drop(self) -> None:
        if self._strips:  # closed before its removal (Windows cannot remove an open file)
            # its flush fails again on a full disk: the error already raised is the one to tell
            with contextlib.suppress(OSError):
                self._strip_file.close()
        for path in self._tmp:
            path.unlink(missing_ok=True)

    def add(self, y: int, band: torch.Tensor, x: int = 0) -> None:
        """Rows y.. and columns x.. of the probabilities, (C, rows, cols) float, at the cached
        size: whole rows, or whole columns (a wide image's sliding window)."""
        h, w = self.original if self.stream else self.cached
        if self._strips is not None and band.shape[1] == h and band.shape[2] < w:
            self._append(band, x)
        elif self.stream:
            self._put(y, band, x)
        else:
            self._cached_map()[:, y : y + band.shape[1], x : x + band.shape[2]] = band.numpy()

    def _append(self, band: torch.Tensor, x: int) -> None:
        """Columns x.. (every row) appended to the strip-major scratch: the float16
        probabilities, or the mask's values where none are saved, or the cached-size float32
        probabilities to resize."""
        if not self._strips:
            self._strip_path = self._temp(self.probs_file or self.mask_path)
            self._strip_file = open(self._strip_path, "wb")  # noqa: SIM115 (closed in _unstrip)
        if not self.stream:
            data = band.numpy()
        else:
            half = self._half(band, (slice(None), slice(x, x + band.shape[2])))
            data = half.numpy() if self.probs_file else self.mapping.to_values(class_index(
                half.float()))
        with disk_errors(self.probs_file or self.mask_path):
            self._strip_file.write(np.ascontiguousarray(data).data)
        self._strips.append((x, band.shape[2]))

    def _columns(self, dtype: np.dtype, shape: tuple[int, ...]) -> _Joined:
        """The column bands of the scratch, closed, as one (..., h, w) array of `shape`."""
        with disk_errors(self.probs_file or self.mask_path):  # its buffer's last write
            self._strip_file.close()
        h, w, lead = shape[-2], shape[-1], int(np.prod(shape[:-2]))
        flat = np.memmap(self._strip_path, mode="r", dtype=dtype)
        blocks, start = [], 0
        for _, cols in self._strips:
            blocks.append(flat[start : start + lead * h * cols].reshape(*shape[:-2], h, cols))
            start += lead * h * cols
        starts = np.cumsum([0] + [cols for _, cols in self._strips])
        if [x for x, _ in self._strips] != starts[:-1].tolist() or starts[-1] != w:
            raise RuntimeError(f"column bands of {self.mask_path} do not tile its width {w}")
        return _Joined(blocks, tuple(shape))

    def _unstrip(self) -> None:
        """Copy the column bands of the scratch into the output maps, rows at a time (each
        page of the maps written once)."""
        kept = self._cached if not self.stream else self._probs if self.probs_file else self._values
        joined = self._columns(kept.dtype, kept.shape)
        lead, w = int(np.prod(kept.shape[:-2])), kept.shape[-1]
        step = max(1, ROWS_BYTES // (kept.itemsize * lead * w))
        for y in range(0, kept.shape[-2], step):
            part = joined[..., y : y + step, :]
            if not self.stream:
                self._cached[:, y : y + step] = part
                continue
            if self.probs_file:
                self._probs[:, y : y + step] = part
                part = self.mapping.to_values(class_index(torch.from_numpy(part).float()))
            self._values[y : y + step] = part
        del joined

    def _half(self, band: torch.Tensor, box: tuple[slice, slice]) -> torch.Tensor:
        """The band as the float16 probabilities saved: class 0 for certain outside the
        region of interest."""
        if self._outside is not None:  # (rows, cols)
            out = torch.from_numpy(np.ascontiguousarray(self._outside[box]))
            band = band.clone()
            band[:, out] = 0
            band[0, out] = 1
        return band.to(torch.float16)

    def _put(self, y: int, band: torch.Tensor, x: int = 0) -> None:
        """Rows y.. and columns x.. of the probabilities at the original size into the output
        files."""
        rows, cols = band.shape[1:]
        box = (slice(y, y + rows), slice(x, x + cols))
        # The mask is the argmax of the float16 probabilities saved (the CRF tuning and the
        # final-mask choice read those), also where none are saved (predict_folder): where
        # two classes round to one float16, all of them pick the first.
        half = self._half(band, box)
        if self.probs_file:
            self._probs[(slice(None), *box)] = half.numpy()
        self._values[box] = self.mapping.to_values(class_index(half.float()))

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._drop()

    def _finish(self) -> None:
        source = self._cached
        if self._strips and source is None and not self.stream:  # columns alone: read as one
            source = self._columns(np.float32, (self.mapping.num_classes, *self.cached))
        elif self._strips:
            self._unstrip()
        if not self.stream:
            for y, band in resized_bands(self._cached_map() if source is None else source,
                                         self.original):
                self._put(y, band)
            del source, self._cached
        if self.probs_file:
            if isinstance(self._probs, np.memmap):
                self._probs.flush()  # msync: another node (NFS) reading it must see it whole
            else:  # written and closed: what close-to-open file systems publish
                # over the room _open reserved, then cut to the array's end: "wb" freed the
                # blocks to allocate them again (3-4 ms a file on ext4, 0.03 ms so)
                with disk_errors(self.probs_file), open(self._probs_tmp, "r+b") as f:
                    np.lib.format.write_array(f, self._probs)
                    f.truncate()
            del self._probs
            os.replace(self._probs_tmp, self.probs_file)
        # Encoded from the mapped values: PIL reads an 8-bit map in place, without a copy.
        self.mapping.write_values(self.mask_path, self._values)
        del self._values


class _Joined:
    """Blocks of columns (..., h, cols) read as one (..., h, w) array: rows taken from each
    block and joined, so a strip-major scratch serves rows without a row-major copy on disk."""

    def __init__(self, blocks: list[np.ndarray], shape: tuple[int, ...]) -> None:
        self.blocks, self.shape = blocks, shape

    def __getitem__(self, key) -> np.ndarray:
        """The rows of `key` (leading axes and rows; all columns) of every block, joined."""
        return np.concatenate([b[key] for b in self.blocks], axis=-1)
