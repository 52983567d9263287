"""`unet unstack` of Synapse (BTCV) as TransUNet ships it: a .npz a 2-D slice (image, label)
and a case's test volume as case0001.npy.h5."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cli import main


def _slice(path, seed: int) -> None:
    """One of train_npz's slices: HU clipped to [-125, 275] scaled to [0, 1]; organ ids 0..8."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 9, (8, 8)).astype(np.float32)  # TransUNet saves them as float32
    np.savez(path, image=rng.random((8, 8), dtype=np.float32), label=label)


def test_npy_h5_volume_is_named_by_its_case(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    vol = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5) % 9
    with h5py.File(tmp_path / "case0001.npy.h5", "w") as f:
        f["image"], f["label"] = vol / 9, vol
    assert main(["unstack", str(tmp_path / "case0001.npy.h5"), str(tmp_path / "m"),
                 "--key", "label"]) == 0
    # test_vol.txt names the case case0001: its slices pair with group_by '^(.+)_\d+$' as it
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["case0001_000.png", "case0001_001.png", "case0001_002.png"], names
    assert np.array_equal(np.asarray(Image.open(tmp_path / "m" / names[1])), vol[1])
    capsys.readouterr()
