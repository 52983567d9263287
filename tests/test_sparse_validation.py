"""Scribbled validation masks cannot judge boundaries: the final choice and the CRF tuning say
so, naming the fix, from meta.json's counts."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.test_sparse_labels import IGNORE, S, _preprocess, _scribbled, _write
from unet.common.fileio import read_json
from unet.common.labels import mapping_from_meta
from unet.crf.dense import CRFParams
from unet.crf.sparse_truth import labelled_share
from unet.crf.tune import tune_crf
from unet.postprocess.finalize import FinalSettings, finalize_masks


def _run(root, val_mask: np.ndarray) -> tuple[dict, dict]:
    """Preprocess five scribbled masks and `val_mask` (p4), predict p4 and the test image
    p5 as their objects, then tune the CRF and choose the final masks."""
    masks = [_scribbled(i) for i in range(6)]
    masks[4] = val_mask
    _write(root, masks)
    meta = _preprocess(root)
    mapping = mapping_from_meta(meta)
    fg = np.full((S, S), 0.1, np.float32)
    fg[8:50, 8:56] = 0.9  # the object the scribbles lie in
    (root / "val/probs").mkdir(parents=True)
    np.save(root / "val/probs/p4.npy", np.stack([1 - fg, fg]).astype(np.float16))
    for method in ("test", "crf"):
        mapping.write(root / method / "masks/p5.png", (fg > 0.5).astype(np.uint8))
    tuning = tune_crf(root / "manifest.json", root / "cache/meta.json", root / "val",
                      root / "tuning.json", CRFParams(iterations=2),
                      {"gaussian_compat": [1.0, 3.0]}, 12)
    choice = finalize_masks(root / "manifest.json", root / "cache/meta.json", root / "val",
                            root / "test", root / "crf", root / "final",
                            FinalSettings(("crf",), 0.005), CRFParams(), 12,
                            tuning_json=root / "tuning.json")
    return tuning, choice


def test_scribbled_validation_warns_that_boundaries_go_unseen(tmp_path, caplog):
    # Scribbles inside objects: raw 0.9998 against the CRF's 0.9969 on validation chose raw,
    # when on fully labelled test masks the CRF gained 0.02; nothing said the choice was blind.
    with caplog.at_level(logging.WARNING):
        _, choice = _run(tmp_path, _scribbled(4))
    share = labelled_share(read_json(tmp_path / "cache/meta.json"))
    assert share is not None and share < 0.5
    for where in (choice["reason"], read_json(tmp_path / "final/choice.json")["reason"]):
        assert f"label {share:.1%} of their pixels" in where
        assert "split.val_ids" in where and "postprocess.candidates" in where
    logged = [r for r in caplog.records if "cannot see what happens at object boundaries"
              in r.getMessage()]
    assert {r.name for r in logged} == {"unet.crf.tune", "unet.postprocess.finalize"}


def test_fully_labelled_validation_says_nothing_of_sparse_labels(tmp_path, caplog):
    val = np.zeros((S, S), np.uint8)
    val[8:50, 8:56] = 1
    val[0, 0] = IGNORE  # masks.ignore set, a pixel of it used
    with caplog.at_level(logging.WARNING):
        _, choice = _run(tmp_path, val)
    assert labelled_share(read_json(tmp_path / "cache/meta.json")) == pytest.approx(1.0)
    assert "object boundaries" not in choice["reason"]
    assert "object boundaries" not in caplog.text
