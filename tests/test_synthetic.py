"""Tests for the seeded synthetic data set generator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.dataset.synthetic import class_values, generate_dataset, generate_pair

W, H = 48, 32  # tiny but keeps the default 3:2 aspect


def _digest(root: Path) -> dict[str, str]:
    """Hash of every file under root, keyed by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.png"))
    }


def test_class_values() -> None:
    assert class_values(1) == [0, 255]
    assert class_values(3) == [0, 85, 170, 255]
    with pytest.raises(ValueError):
        class_values(0)


def test_files_and_stems(tmp_path: Path) -> None:
    stems = generate_dataset(tmp_path, 3, width=W, height=H)
    assert stems == ["synth_0000", "synth_0001", "synth_0002"]
    for stem in stems:
        with Image.open(tmp_path / "images" / f"{stem}.png") as im:
            assert (im.mode, im.size) == ("RGB", (W, H))
        with Image.open(tmp_path / "masks" / f"{stem}.png") as m:
            assert (m.mode, m.size) == ("L", (W, H))
    # No temporary files are left behind by the atomic writes.
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [f"{s}.png" for s in stems] * 2
    )


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", 3, width=W, height=H, seed=7)
    generate_dataset(tmp_path / "b", 3, width=W, height=H, seed=7)
    generate_dataset(tmp_path / "c", 3, width=W, height=H, seed=8)
    a, b, c = (_digest(tmp_path / d) for d in "abc")
    assert a == b
    assert all(a[k] != c[k] for k in a if k.startswith("images"))


def test_processes_do_not_change_output(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "one", 4, width=W, height=H, seed=3, classes=2, processes=1)
    generate_dataset(tmp_path / "two", 4, width=W, height=H, seed=3, classes=2, processes=2)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")


def test_pair_independent_of_count(tmp_path: Path) -> None:
    generate_dataset(tmp_path, 3, width=W, height=H, seed=5)
    img, mask = generate_pair(2, W, H, seed=5, classes=1)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "images" / "synth_0002.png")), img)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "masks" / "synth_0002.png")), mask)


@pytest.mark.parametrize("classes", [1, 3])
def test_mask_values_and_foreground(classes: int) -> None:
    seen: set[int] = set()
    for index in range(10):
        img, mask = generate_pair(index, W, H, seed=0, classes=classes)
        assert img.shape == (H, W, 3) and img.dtype == np.uint8
        assert mask.shape == (H, W) and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) <= set(class_values(classes))
        assert (mask > 0).any(), "every image has an object"
        assert (mask == 0).any(), "and some background"
        seen |= set(np.unique(mask).tolist())
    assert seen == set(class_values(classes))


def test_default_size_and_soft_edges() -> None:
    img, mask = generate_pair(0, 384, 256, seed=0, classes=1)
    assert img.shape == (256, 384, 3) and mask.shape == (256, 384)
    # The mask edge is hard (two values only) while the image is not a flat-colour cartoon.
    assert set(np.unique(mask).tolist()) <= {0, 255}
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 1000
