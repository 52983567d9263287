"""A class that the training masks hold at full size but that the cache lacks: the warning
says why (objects too small for the resize, naming a size that keeps them, or objects only
outside the regions of interest), not that the data has no pixel of it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json

S = 256  # full size; cached at 32x32: a nearest-neighbour sample every 8 pixels, at 8k+4


def _fov() -> np.ndarray:
    yy, xx = np.mgrid[:S, :S]
    return np.hypot(yy - S / 2, xx - S / 2) < 0.45 * S


def _cache(root: Path, lesions: list[tuple[int, int]], caplog,
           settings: PreprocessSettings | None = None) -> str:
    """Preprocess 8 DRIVE-like pairs: a vessel band (value 128, class 1) and 3x3 lesions
    (value 255, class 2) at `lesions`, in a round field of view; the warnings' text."""
    for d in ("images", "manual", "fov"):
        (root / d).mkdir(parents=True)
    pairs = []
    for i in range(8):
        mask = np.zeros((S, S), np.uint8)
        mask[60 + 10 * i: 80 + 10 * i, 40:200] = 128
        for y, x in lesions:
            mask[y:y + 3, x:x + 3] = 255
        paths = [str(root / f) for f in (f"images/{i}.png", f"manual/{i}.png", f"fov/{i}.gif")]
        for path, arr in zip(paths, (50 + mask // 2, mask, _fov().astype(np.uint8) * 255),
                             strict=True):
            Image.fromarray(arr).save(path)
        pairs.append({"id": str(i), "image": paths[0], "mask": paths[1], "roi": paths[2],
                      "size": [S, S]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    with caplog.at_level(logging.WARNING):
        preprocess(root / "manifest.json", root / "split.json", root / "cache",
                   settings or PreprocessSettings(width=32, height=32))
    return next(r.getMessage() for r in caplog.records if "class 2" in r.getMessage())


def test_a_class_lost_to_the_resize_is_named_so_with_a_size_that_keeps_it(tmp_path, caplog):
    # Said "class 2 (value 255) has no pixel in the training masks", which every one holds.
    line = _cache(tmp_path, [(100, 129), (150, 161)], caplog)
    assert "has no pixel in the training masks" not in line
    assert "resize" in line and "0.png" in line
    assert "64x64" in line and "preprocess.mode: native" in line  # 2x the size keeps them


def test_the_size_named_keeps_the_class(tmp_path, caplog):
    line = _cache(tmp_path, [(100, 129), (150, 161)], caplog)
    assert "64x64" in line
    caplog.clear()
    (tmp_path / "cache").rename(tmp_path / "old")
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(width=64, height=64))
    assert meta["class_fractions"][2] > 0


def test_native_mode_names_a_scale(tmp_path, caplog):
    line = _cache(tmp_path, [(100, 129)], caplog, PreprocessSettings(mode="native", scale=0.125))
    assert "resize" in line and "preprocess.scale 0.25" in line


def test_a_class_only_outside_the_regions_of_interest_is_named_so(tmp_path, caplog):
    line = _cache(tmp_path, [(2, 2), (250, 250)], caplog)  # the corners: outside the FOV
    assert "too small" not in line and "region of interest" in line
    assert "0.png" in line and "0.gif" in line


def test_a_class_the_masks_lack_keeps_the_old_warning(tmp_path, caplog):
    line = _cache(tmp_path, [], caplog, PreprocessSettings(width=32, height=32,
                                                           mask_values=(0, 128, 255)))
    assert "has no pixel in the training masks" in line


def _three_classes(root: Path, train: list[int], settings: PreprocessSettings) -> None:
    """8 pairs of 0/1/2 masks at 64 px cached at 32x32: a square of class 1 in each, one of
    class 2 in the test images only; training masks are `train`'s values everywhere."""
    for d in ("images", "manual"):
        (root / d).mkdir(parents=True)
    pairs = []
    for i in range(8):
        mask = np.zeros((64, 64), np.uint8)
        mask[10:30, 10:30] = 1
        if i >= 6:
            mask[40:60, 40:60] = 2
        if i < 4:
            mask[:] = train[i % len(train)]
        paths = [str(root / f) for f in (f"images/{i}.png", f"manual/{i}.png")]
        Image.fromarray(50 + 60 * mask).save(paths[0])
        Image.fromarray(mask).save(paths[1])
        pairs.append({"id": str(i), "image": paths[0], "mask": paths[1], "size": [64, 64]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)


def test_a_class_only_in_the_test_split_names_it_and_the_split_keys(tmp_path, caplog):
    # Said only that the training masks have no pixel of it, as if the data lacked it.
    with caplog.at_level(logging.WARNING):
        _three_classes(tmp_path, [0, 1], PreprocessSettings(width=32, height=32))
    line = next(r.getMessage() for r in caplog.records if "class 2" in r.getMessage())
    assert "test split" in line and "6.png" in line and "split.test_ids" in line


def test_training_masks_without_objects_that_other_splits_hold_name_the_split(tmp_path):
    # Refused with "check masks.values against the values the masks hold": they are right.
    import pytest

    from unet.common.labels import MaskValueError

    with pytest.raises(MaskValueError) as err:
        _three_classes(tmp_path, [0], PreprocessSettings(width=32, height=32))
    text = str(err.value)
    assert "check masks.values" not in text
    assert "val split" in text and "4.png" in text and "split.val_fraction" in text


def test_training_masks_all_foreground_warn_that_background_is_never_learnt(tmp_path, caplog):
    # Silent: class 0 (background) at 0 % of the training pixels was not warned of.
    with caplog.at_level(logging.WARNING):
        _three_classes(tmp_path, [1], PreprocessSettings(width=32, height=32,
                                                         mask_values=(0, 1, 2)))
    text = caplog.text
    assert "class 0 (value 0)" in text and "no pixel in the training masks" in text


def test_the_refusal_when_every_class_is_lost_names_a_size_that_keeps_them(tmp_path):
    # Named the mask and the resize, but no size: the user had to guess how far to raise it.
    import pytest

    from unet.common.labels import MaskValueError

    for d in ("images", "manual"):
        (tmp_path / d).mkdir(parents=True)
    pairs = []
    for i in range(6):
        mask = np.zeros((S, S), np.uint8)
        mask[100:103, 129:132] = 255  # between the 32x32 cache's samples; 64x64 hits it
        paths = [str(tmp_path / f) for f in (f"images/{i}.png", f"manual/{i}.png")]
        Image.fromarray(50 + mask // 2).save(paths[0])
        Image.fromarray(mask).save(paths[1])
        pairs.append({"id": str(i), "image": paths[0], "mask": paths[1], "size": [S, S]})
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ["0", "1"], "val": ["2", "3"],
                                         "test": ["4", "5"]})
    with pytest.raises(MaskValueError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=32, height=32))
    assert "too small" in str(err.value) and "64x64 keeps some" in str(err.value)


def test_at_full_size_the_masks_are_not_read_again(tmp_path, caplog, monkeypatch):
    from unet.common.labels import MaskMapping

    reads = []
    monkeypatch.setattr(MaskMapping, "read_index", lambda self, p, what="mask": reads.append(p))
    with caplog.at_level(logging.WARNING):
        _three_classes(tmp_path, [0, 1], PreprocessSettings(mode="native", scale=1.0))
    assert "class 2" in caplog.text and "6.png" in caplog.text and reads == []
