"""One huge image (a 27-megapixel orthomosaic) is predicted tile by tile for minutes: the log
says how far the sliding window has come (before 2026-12-06 it said nothing until the mask was
written, 7 minutes on a loaded 2-core machine), and a small image's log stays as it was."""

from __future__ import annotations

import logging

import numpy as np
import torch

from unet.infer.tiles import NO_FLIPS, Window, window_probs


def _progress(caplog, shape: tuple[int, int]) -> list[str]:
    model = torch.nn.Conv2d(3, 2, 1)
    caplog.clear()
    with caplog.at_level(logging.INFO, "unet.infer.tiles"):
        window_probs([model], np.zeros((*shape, 3), np.uint8), Window((16, 16), 0.5, 4),
                     NO_FLIPS, None)
    return [r.getMessage() for r in caplog.records if r.name == "unet.infer.tiles"]


def test_a_huge_image_logs_how_far_its_sliding_window_has_come(caplog):
    said = _progress(caplog, (400, 600))  # wider than tall: 74 columns of tiles, 8 px apart
    assert 5 <= len(said) <= 11, said
    assert "600x400" in said[0] and "74 of 74 columns" in said[-1] and "100%" in said[-1]


def test_a_small_image_logs_nothing(caplog):
    assert _progress(caplog, (64, 48)) == []
