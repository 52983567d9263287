"""The CRF log names each image refined in tiles, and into how many: refine_crf's and
tune_crf's logs said nothing of it, though a tiled image's result near the seams is not the
whole image's, and its time and memory are the tiles'."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from PIL import Image

import unet.crf.dense as dense
from unet.common.labels import MaskMapping
from unet.crf.dense import CRFParams, CRFTask, refine_file

H, W = 90, 150


def _inputs(tmp_path, name: str, h: int = H, w: int = W) -> tuple[str, str, str]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    fg = rng.random((h, w)).astype(np.float32)
    paths = [str(tmp_path / f"{name}{s}") for s in (".png", ".npy", "_gt.png")]
    Image.fromarray(image).save(paths[0])
    np.save(paths[1], np.stack([1 - fg, fg]).astype(np.float16))
    MaskMapping((0, 255)).write(paths[2], (fg > 0.5).astype(np.uint8))
    return paths[0], paths[1], paths[2]


@pytest.fixture
def calls(monkeypatch) -> list[tuple[int, int]]:
    """The (h, w) of every DenseCRF2D run, counted where refine runs one."""
    seen: list[tuple[int, int]] = []
    whole = dense._refine_whole

    def counted(rgb, probs, *args, **kw):
        seen.append(probs.shape[1:])
        return whole(rgb, probs, *args, **kw)

    monkeypatch.setattr(dense, "_refine_whole", counted)
    return seen


def _tile_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "tiles" in r.getMessage()]


def test_refine_crf_logs_each_tiled_image_and_its_tile_count(tmp_path, caplog, calls):
    image, probs, _ = _inputs(tmp_path, "frame007")
    small_image, small_probs, _ = _inputs(tmp_path, "small", 40, 60)
    params = CRFParams(iterations=1, tile=64, tile_overlap=8)
    mapping = MaskMapping((0, 255))
    caplog.set_level(logging.INFO)
    refine_file(CRFTask(image, probs, str(tmp_path / "o.png"), mapping, params))
    (line,) = _tile_lines(caplog)
    assert "frame007" in line and f"{H}x{W}" in line and "crf.tile 64" in line
    assert int(re.search(r"(\d+) tiles", line).group(1)) == len(calls) > 1
    caplog.clear()
    refine_file(CRFTask(small_image, small_probs, str(tmp_path / "s.png"), mapping, params))
    assert _tile_lines(caplog) == []  # 40 x 60 fits one 64 x 64 tile: refined whole


def test_tune_crf_logs_a_tiled_image_once_for_all_its_settings(tmp_path, caplog, calls):
    from unet.crf.tune import CountJob, _image_counts

    image, probs, gt = _inputs(tmp_path, "frame003")
    combos = [CRFParams(iterations=1, tile=64, tile_overlap=8, bilateral_sxy=s) for s in (20, 40)]
    caplog.set_level(logging.INFO)
    _image_counts(CountJob(image, probs, gt, MaskMapping((0, 255)), combos))
    (line,) = _tile_lines(caplog)
    assert "frame003" in line
    assert int(re.search(r"(\d+) tiles", line).group(1)) * 2 == len(calls)
