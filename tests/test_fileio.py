"""Atomic writes: a failed write leaves nothing, and a finished file has the mode the user's
umask gives any new file (mkstemp's 0600 made results unreadable to a shared group)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from unet.common.fileio import atomic_dir, atomic_path, write_json
from unet.common.labels import MaskMapping
from unet.infer.writer import PredictionWriter


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_follow_the_umask(tmp_path, umask):
    write_json(tmp_path / "a.json", {"x": 1})
    with atomic_path(tmp_path / "sub" / "b.npy") as tmp:
        np.save(tmp, np.zeros(3))
    with atomic_dir(tmp_path / "cache") as tmp:
        (tmp / "meta.json").write_text("{}")
    for path in (tmp_path / "a.json", tmp_path / "sub" / "b.npy", tmp_path / "cache" / "meta.json"):
        assert _mode(path) == 0o666 & ~umask, path


def test_prediction_outputs_follow_the_umask(tmp_path, umask):
    import torch

    mapping = MaskMapping(values=(0, 255))
    for stream in (True, False):
        out = tmp_path / str(stream)
        writer = PredictionWriter(
            out / "m.png",
            out / "p.npy",
            mapping,
            cached=(20, 30) if stream else (10, 15),
            original=(20, 30),
        )
        with writer as w:
            rows = 20 if stream else 10
            w.add(0, torch.softmax(torch.randn(2, rows, 30 if stream else 15), 0))
        for path in (out / "m.png", out / "p.npy"):
            assert _mode(path) == 0o666 & ~umask, path
        assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
