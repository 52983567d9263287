"""Sparse (scribbled) masks, mostly masks.ignore: what the cache's resize and the checks do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import settings_from_config
from unet.common.fileio import write_json
from unet.common.labels import MaskValueError

S, HALF = 64, 32  # files of S x S cached at HALF x HALF: nearest keeps odd rows and columns
IGNORE = 255


def _scribbled(i: int) -> np.ndarray:
    """An (S, S) mask all unlabelled but a 5-px scribble of background and one of cells."""
    m = np.full((S, S), IGNORE, np.uint8)
    m[10:15, 4 + i : 40] = 0
    m[40:45, 20 : 50 - i] = 1
    return m


def _write(root: Path, masks: list[np.ndarray]) -> None:
    """Image/mask PNGs, manifest.json and split.json: the last two validation and test."""
    pairs = []
    for i, m in enumerate(masks):
        img = np.where(m == 1, 200, 60).astype(np.uint8)
        Image.fromarray(img).save(root / f"img{i}.png")
        Image.fromarray(m).save(root / f"msk{i}.png")
        pairs.append({"id": f"p{i}", "image": str(root / f"img{i}.png"),
                      "mask": str(root / f"msk{i}.png"), "size": [S, S]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:-2], "val": ids[-2:-1], "test": ids[-1:]})


def _preprocess(root: Path) -> dict:
    settings = settings_from_config({"width": HALF, "height": HALF},
                                    {"values": [0, 1], "colors": None, "threshold": None,
                                     "max_values": 16, "ignore": IGNORE, "names": None,
                                     "unlisted": "error"})
    preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)
    return json.loads((root / "cache" / "meta.json").read_text())


def test_scribbles_a_resize_loses_are_not_called_unlabelled(tmp_path, caplog):
    # A biologist's 1-px scribbles on even rows and columns: the nearest resize to half size
    # samples odd ones only, so the cached mask is all ignored. The warning said "every value
    # skipped by masks.ignore", as for a mask nobody labelled, not that the resize lost them.
    masks = [_scribbled(i) for i in range(5)]
    thin = np.full((S, S), IGNORE, np.uint8)
    thin[20, 4:60] = 0  # even row: a background scribble
    thin[8:60, 30] = 1  # even column: a cell scribble
    masks.insert(2, thin)
    _write(tmp_path, masks)
    with caplog.at_level("WARNING"):
        meta = _preprocess(tmp_path)
    assert meta["unlabelled"]["train"] == ["p2"]
    line = next(r.getMessage() for r in caplog.records if "p2" in r.getMessage())
    assert "msk2.png" in line and "resize" in line and "preprocess.mode: native" in line
    assert "every value skipped by masks.ignore" not in line


def test_a_validation_split_whose_scribbles_the_resize_loses_is_refused_saying_so(tmp_path):
    masks = [_scribbled(i) for i in range(6)]
    thin = np.full((S, S), IGNORE, np.uint8)
    thin[8:60, 30] = 1  # even column: the only validation image's one cell scribble
    masks[-2] = thin
    _write(tmp_path, masks)
    with pytest.raises(MaskValueError, match=r"val image\(s\) p4 .*msk4.png.*resize.*"
                                             r"preprocess.width x height 64x64 keeps some"):
        _preprocess(tmp_path)
    assert not (tmp_path / "cache" / "meta.json").exists()


@pytest.mark.parametrize("patch", [None, [32, 32]])
def test_a_training_mask_nobody_labelled_is_left_out_of_training(tmp_path, patch, caplog):
    # An all-255 mask: every patch of it (a tenth of the patches here) was a step's work
    # with nothing to learn, while preprocess said it was left out of the "scores".
    from unet.train.settings import PatchSettings, TrainSettings
    from unet.train.train import _datasets

    masks = [_scribbled(i) for i in range(6)]
    masks[1] = np.full((S, S), IGNORE, np.uint8)
    _write(tmp_path, masks)
    with caplog.at_level("WARNING"):
        meta = _preprocess(tmp_path)
    assert "p1" in caplog.text and "left out of training" in caplog.text
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu",
                             patch=PatchSettings(size=tuple(patch) if patch else None))
    train, val = _datasets(tmp_path / "cache", meta, settings, None)
    assert train.rows == [("train", 0), ("train", 2), ("train", 3)]
    assert val.rows == [("val", 0)]


def test_a_split_of_lost_scribbles_and_unlabelled_masks_is_refused(tmp_path):
    # The test split's two masks: one scribble the resize loses, one nobody labelled. Each
    # alone was refused, but the pair was only warned about: a split with nothing to score
    # went through (its scores 0/0, counted as 1.0), as it had been refused before the lost
    # scribbles were told apart.
    masks = [_scribbled(i) for i in range(7)]
    masks[5] = np.full((S, S), IGNORE, np.uint8)
    masks[6] = np.full((S, S), IGNORE, np.uint8)
    masks[6][8:60, 30] = 1  # even column: lost at half size
    _write(tmp_path, masks)
    ids = [f"p{i}" for i in range(7)]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:5], "test": ids[5:]})
    with pytest.raises(MaskValueError, match=r"test image\(s\) p6 .*msk6.png.*resize.*"
                                             r"nothing to score.*p5.*msk5.png"):
        _preprocess(tmp_path)
    assert not (tmp_path / "cache" / "meta.json").exists()


def test_scribbles_a_resize_loses_in_part_are_named(tmp_path, caplog):
    # Five 1-px background and cell strokes; the nearest resize to half keeps the one on an odd
    # row, and drops four: the cache held 40 % of the labels drawn, and nothing was said.
    masks = [_scribbled(i) for i in range(6)]
    thin = np.full((S, S), IGNORE, np.uint8)
    for row, value in ((10, 0), (20, 0), (30, 1), (40, 1), (51, 1)):  # only row 51 is odd
        thin[row, 4:60] = value
    masks[1] = thin
    _write(tmp_path, masks)
    with caplog.at_level("WARNING"):
        _preprocess(tmp_path)
    line = next(r.getMessage() for r in caplog.records if "labelled pixels in the cache"
                in r.getMessage())
    assert "1 training or validation image(s)" in line and "msk1.png keeps 40%" in line
    assert "preprocess.mode: native" in line and "msk0.png" not in line


def test_lost_scribbles_are_told_from_the_cache_counts_reading_one_mask_again(tmp_path,
                                                                           monkeypatch):
    # Each mask whose cache held no labelled pixel was read again at full size to tell lost
    # scribbles from masks nobody labelled, though the cache had just counted its labelled
    # pixels at full size: only the first lost mask is read again, for the size that keeps some.
    from unet.common.labels import MaskMapping

    masks = [_scribbled(i) for i in range(7)]
    for k in (1, 2, 3):
        masks[k] = np.full((S, S), IGNORE, np.uint8)
        masks[k][8:60, 30] = 1  # even column: lost at half size
    masks[4] = np.full((S, S), IGNORE, np.uint8)  # nobody labelled it
    _write(tmp_path, masks)
    reads: list[str] = []
    original = MaskMapping.read_index
    monkeypatch.setattr(MaskMapping, "read_index",
                        lambda self, path, *a, **k: reads.append(str(path))
                        or original(self, path, *a, **k))
    meta = _preprocess(tmp_path)
    assert meta["unlabelled"]["train"] == ["p1", "p2", "p3", "p4"]
    assert reads == [str(tmp_path / "msk1.png")]
