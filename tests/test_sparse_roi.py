"""The sparse-labels warning counts only pixels a label can reach: inside the image's region of
interest and off its scene's no-data fill (meta.json's outside_px), not the whole image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_sparse_labels import IGNORE, S, _preprocess, _scribbled, _write
from unet.crf.sparse_truth import labelled_share, sparse_note

LEFT = 20  # the validation image's reachable columns: 20 of 64, under SPARSE_SHARE


def _full(_: int) -> np.ndarray:
    """An (S, S) mask labelled at every pixel: background with a block of cells."""
    m = np.zeros((S, S), np.uint8)
    m[8:50, 4:16] = 1
    return m


def _limited(root, val: np.ndarray, how: str) -> dict:
    """Preprocess five scribbled masks and `val` (the validation image p4), p4's pixels right of
    LEFT cut off: outside its region of interest (`how` roi) or no-data fill (alpha 0)."""
    masks = [_scribbled(i) for i in range(6)]
    masks[4] = val
    _write(root, masks)
    manifest = root / "manifest.json"
    if how == "roi":
        roi = np.zeros((S, S), np.uint8)
        roi[:, :LEFT] = 255
        Image.fromarray(roi).save(root / "roi4.png")
        manifest.write_text(manifest.read_text().replace(
            '"id": "p4",', f'"id": "p4", "roi": "{root / "roi4.png"}",'))
    else:  # every image grey with alpha; p4's clear right of LEFT
        for i in range(6):
            grey = np.asarray(Image.open(root / f"img{i}.png"))
            alpha = np.full((S, S), 255, np.uint8)
            if i == 4:
                alpha[:, LEFT:] = 0
            Image.fromarray(np.stack([grey, alpha], -1), "LA").save(root / f"img{i}.png")
    return _preprocess(root)


@pytest.mark.parametrize("how", ["roi", "fill"])
def test_a_mask_fully_labelled_where_it_can_be_is_not_sparse(tmp_path, how):
    # DRIVE's fundus masks label every pixel of the field of view, a third of the image here:
    # the share said 31 % and the CRF tuning and final choice warned of scribbles
    meta = _limited(tmp_path, _full(4), how)
    assert labelled_share(meta) == pytest.approx(1.0)
    assert sparse_note(meta) is None
    assert meta["splits"]["val"]["outside_px"] == (S - LEFT) // 2 * S // 2  # cached at half


@pytest.mark.parametrize("how", ["roi", "fill"])
def test_scribbles_inside_the_reachable_part_still_warn(tmp_path, how):
    m = np.full((S, S), IGNORE, np.uint8)
    m[10:12, 2:18] = 0  # a scribble of each class inside the left 20 columns
    m[40:42, 2:18] = 1
    meta = _limited(tmp_path, m, how)
    share = labelled_share(meta)
    assert share is not None and share < 0.5
    assert f"label {share:.1%} of their pixels" in sparse_note(meta)


def test_images_with_nothing_cut_off_record_nothing(tmp_path):
    # meta.json as before where no roi or fill leaves a pixel out
    _write(tmp_path, [_full(i) for i in range(6)])
    meta = _preprocess(tmp_path)
    assert all("outside_px" not in e for e in meta["splits"].values())
