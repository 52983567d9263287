"""CT slices in Hounsfield units cached without preprocess.intensity_window are warned of: one
range from air to bone left a tumour and its organ a few grey levels apart without a word."""

from __future__ import annotations

import logging

import numpy as np
import tifffile

from unet.cache.intensity import training_range
from unet.cache.settings import PreprocessSettings

AIR, ORGAN, TUMOUR, BONE = -1024, 100, 160, 2000  # Hounsfield units


def _slices(root, low: int, high: int, dtype=np.int16) -> list[str]:
    """Four 32x32 slices: a body on `low`, an organ with a tumour, a block at `high`."""
    paths = []
    for i in range(4):
        img = np.full((32, 32), low, dtype)
        img[4:28, 4:28] = (low + high) // 4
        img[10:20, 8 + i:20 + i] = ORGAN if low < 0 else img[10, 10]
        img[24:28, 14:18] = high  # 16 px: bone, not a hot pixel
        tifffile.imwrite(root / f"s{i}.tif", img)
        paths.append(str(root / f"s{i}.tif"))
    return paths


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_ct_without_a_window_is_warned_of(tmp_path, caplog):
    paths = _slices(tmp_path, AIR, BONE)
    with caplog.at_level(logging.WARNING):
        span = training_range(paths, False, PreprocessSettings(), 1)
    assert span == [AIR, BONE]
    (note,) = _warnings(caplog)
    # 100 HU under a range of 3024: 8.4 grey levels
    assert "-1024 to 2000" in note and "8.4 of 255" in note
    assert "preprocess.intensity_window: [-200, 300]" in note


def test_ct_with_a_window_is_not_warned_of(tmp_path, caplog):
    paths = _slices(tmp_path, AIR, BONE)
    with caplog.at_level(logging.WARNING):
        span = training_range(paths, False, PreprocessSettings(intensity_window=(-200, 300)), 1)
    assert span == [-200.0, 300.0]
    assert _warnings(caplog) == []


def test_16_bit_counts_are_not_taken_for_ct(tmp_path, caplog):
    # a microscope's 0..4000 counts, or a signed image that does not reach air, stays quiet
    for low, high, dtype in ((0, 4000, np.uint16), (-200, 3000, np.int16)):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            training_range(_slices(tmp_path, low, high, dtype), False, PreprocessSettings(), 1)
        assert _warnings(caplog) == []
