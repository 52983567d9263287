"""Bytes a large image's prediction writes: column bands (a wide image's sliding window) must
not rewrite the probabilities' pages once per band."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from unet.common.labels import MaskMapping
from unet.infer.writer import PredictionWriter

H, W, C, COLS = 600, 1000, 3, 64  # 3.6 MB of float16 probabilities: written through maps


def _written() -> int:
    """This process's write_bytes: pages dirtied, counted again when dirtied after writeback."""
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("write_bytes"))


def _counted(folder: Path) -> bool:
    """Whether /proc/self/io exists and counts writes to `folder` (tmpfs counts none)."""
    if not os.path.exists("/proc/self/io"):
        return False
    before, probe = _written(), folder / "probe"
    with open(probe, "wb") as f:
        f.write(b"x" * (1 << 20))
        f.flush()
        os.fsync(f.fileno())
    probe.unlink()
    return _written() - before >= 1 << 20


def _probs(h: int = H, w: int = W) -> torch.Tensor:
    """(C, h, w) probabilities, seeded."""
    return torch.rand((C, h, w), generator=torch.Generator().manual_seed(0)).softmax(0)


def _write(out: Path, probs: torch.Tensor, columns: bool) -> int:
    """Write `probs` as one band, or as column bands each followed by the writeback a slow
    predict gets from the kernel (every page older than 30 s); the bytes written."""
    before = _written()
    with PredictionWriter(out / "m.png", out / "p.npy", MaskMapping(values=(0, 127, 255)),
                          tuple(probs.shape[1:]), (H, W)) as writer:
        if not columns:
            writer.add(0, probs)
        for x in range(0, probs.shape[2], COLS) if columns else ():
            writer.add(0, probs[:, :, x : x + COLS].contiguous(), x)
            for path in writer._tmp:  # what the kernel's flusher does between slow bands
                fd = os.open(path, os.O_RDWR)
                os.fsync(fd)
                os.close(fd)
    return _written() - before


@pytest.mark.parametrize("scale", [1, 2])
def test_column_bands_write_each_page_once(tmp_path: Path, scale: int) -> None:
    """A 6000x4500 GeoTIFF predicted a column of tiles at a time wrote 1,859 MB for 189 MB of
    outputs: each band re-dirtied every row's page of the float16 map, written back between
    bands (and a cache at half the size, its float32 scratch map). Now the bytes stay near the
    outputs', and the files are those one band gives. At half size the column scratch was
    copied into a float32 map before resizing (8.0 MB written here, 6.1 MB in rows): now
    resized from the scratch, as many bytes as rows write."""
    if not _counted(tmp_path):
        pytest.skip("no /proc/self/io, or this file system counts no written bytes")
    probs = _probs(H // scale, W // scale)
    (tmp_path / "rows").mkdir()
    (tmp_path / "cols").mkdir()
    rows = _write(tmp_path / "rows", probs, columns=False)
    written = _write(tmp_path / "cols", probs, columns=True)
    size = C * H * W * 2
    assert written < 3 * size, f"{written / 1e6:.1f} MB written for {size / 1e6:.1f} MB"
    if scale > 1:  # the bands resized from their scratch, not copied into a float32 map first
        assert written < rows + size // 8, f"{written / 1e6:.1f} MB, {rows / 1e6:.1f} in rows"
    for name in ("m.png", "p.npy"):
        assert (tmp_path / "rows" / name).read_bytes() == (tmp_path / "cols" / name).read_bytes()
    assert np.load(tmp_path / "cols" / "p.npy").shape == (C, H, W)


class _Filling:
    """The column scratch on a disk that fills: a write fails, and so does close's flush of
    what its buffer kept (as Python's BufferedWriter does on ENOSPC)."""

    def __init__(self, f, writes: bool) -> None:
        self.f, self.writes = f, writes

    def write(self, data) -> None:
        if not self.writes:  # else kept in the buffer, its flush failing at close
            raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        self.f.close()
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("writes", [False, True])
def test_a_full_disk_in_column_bands_leaves_no_scratch_files(tmp_path: Path, writes: bool) -> None:
    """The failed flush raised again in the cleanup, before it removed anything: the maps and
    the scratch (each up to the probabilities' size) stayed on the full disk. Now none stays,
    and the error names the output."""
    probs = _probs()
    with pytest.raises(OSError, match="p.npy"), PredictionWriter(
            tmp_path / "m.png", tmp_path / "p.npy", MaskMapping(values=(0, 127, 255)),
            (H, W), (H, W)) as writer:
        writer.add(0, probs[:, :, :COLS].contiguous(), 0)
        writer._strip_file = _Filling(writer._strip_file, writes)
        writer.add(0, probs[:, :, COLS : 2 * COLS].contiguous(), COLS)
    assert sorted(os.listdir(tmp_path)) == []
