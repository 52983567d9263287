"""A full disk (ENOSPC) in the middle of each kind of output: the error names the output and
says the disk is full, and no partial file is left beside it."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import numpy as np
import pytest

from unet.common.fileio import DiskFullError


class _FullFile:
    """A file whose disk fills after `room` bytes: the rest of a write raises ENOSPC."""

    def __init__(self, f, room: int = 64) -> None:
        self.f, self.room = f, room

    def write(self, data) -> int:
        if len(data) > self.room:
            self.f.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def __iter__(self):
        return iter(self.f)


@pytest.fixture
def full_disk(tmp_path, monkeypatch) -> Path:
    """Files opened for writing under tmp_path/out fill the disk after 64 bytes."""
    out = tmp_path / "out"
    out.mkdir()
    real = io.open

    def opener(file, mode="r", *args, **kwargs):
        f = real(file, mode, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and set(mode) & set("wax+") and \
                Path(file).absolute().is_relative_to(out):
            return _FullFile(f)
        return f

    monkeypatch.setattr(builtins, "open", opener)
    monkeypatch.setattr(io, "open", opener)
    return out


def _left(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*"))


def test_a_mask_on_a_full_disk(full_disk):
    from unet.common.maskio import write_mask_png

    mask = np.random.default_rng(0).integers(0, 2, (64, 64), dtype=np.uint8) * 255
    with pytest.raises(DiskFullError, match=r"out/m\.png: its disk is full"):
        write_mask_png(full_disk / "m.png", mask)
    assert _left(full_disk) == []


def test_a_checkpoint_on_a_full_disk(full_disk):
    import torch

    from unet.model import checkpoint

    with pytest.raises(DiskFullError, match=r"out/last\.pt: its disk is full"):
        checkpoint.save(full_disk / "last.pt", {"w": torch.zeros(1000), "epoch": 1})
    assert _left(full_disk) == []


def test_a_plot_on_a_full_disk(full_disk):
    from unet.report import figures

    fig = figures.plt.figure()
    fig.gca().plot([0, 1], [1, 0])
    with pytest.raises(DiskFullError, match=r"out/curves\.png: its disk is full"):
        figures.save_figure(fig, full_disk / "curves.png")
    assert _left(full_disk) == []


def test_a_json_on_a_full_disk(full_disk):
    from unet.common.fileio import write_json

    with pytest.raises(DiskFullError, match=r"out/summary\.json: its disk is full"):
        write_json(full_disk / "summary.json", {"x": list(range(100))})
    assert _left(full_disk) == []


def test_a_cache_on_a_full_disk(full_disk):
    from tests.conftest import write_inputs, write_pair
    from unet.cache.preprocess import preprocess
    from unet.cache.settings import PreprocessSettings

    data = full_disk.parent / "data"
    data.mkdir()
    write_inputs(data, [write_pair(data, i) for i in range(4)])
    with pytest.raises(DiskFullError, match=r"out/cache/\w+\.npy: its disk is full"):
        preprocess(data / "manifest.json", data / "split.json", full_disk / "cache",
                   PreprocessSettings(width=20, height=16))
    assert [p for p in _left(full_disk) if p != "cache"] == []
