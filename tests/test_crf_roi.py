"""The CRF outside a region of interest: the network never learnt there and its saved
probabilities say class 0 for certain, which must not count as evidence inside."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping
from unet.common.maskio import read_mask
from unet.crf.dense import CRFParams, CRFTask, refine_file
from unet.crf.tune import CountJob, _image_counts

N = 96


def _fundus(tmp_path):
    """A round field of view on black with dark spots inside (as dark as the surround, as a
    fundus photograph's haemorrhages are), predicted confidently; outside, class 0 for sure."""
    yy, xx = np.mgrid[:N, :N]
    fov = np.hypot(yy - N / 2, xx - N / 2) < N / 2 - 4
    spots = np.zeros((N, N), bool)
    for cy, cx in ((48, 48), (30, 60), (66, 30)):
        spots |= np.hypot(yy - cy, xx - cx) < 7
    image = np.where(fov & ~spots, 100, 8).astype(np.uint8)
    fg = np.where(spots, 0.9, 0.1)
    probs = np.stack([1 - fg, fg]).astype(np.float16)
    probs[:, ~fov] = np.array([1, 0], np.float16)[:, None]  # as predict writes outside the roi
    Image.fromarray(image).save(tmp_path / "i.png")
    Image.fromarray((fov * 255).astype(np.uint8)).save(tmp_path / "roi.png")
    MaskMapping((0, 255)).write(tmp_path / "m.png", spots.astype(np.uint8))
    np.save(tmp_path / "p.npy", probs)
    return fov, spots


def test_outside_the_roi_does_not_erase_dark_objects_inside(tmp_path):
    fov, spots = _fundus(tmp_path)
    task = CRFTask(str(tmp_path / "i.png"), str(tmp_path / "p.npy"), str(tmp_path / "c.png"),
                   MaskMapping((0, 255)), CRFParams(), roi=str(tmp_path / "roi.png"))
    refine_file(task)
    labels = read_mask(task.out_path) == 255
    # every spot kept (they were all erased when the surround's class 0 counted as evidence)
    assert (labels & spots).sum() > 0.95 * spots.sum()
    assert not labels[~fov].any()  # class 0 outside, as in the raw masks
    tiled = CRFTask(*[getattr(task, f) for f in ("image_path", "probs_path")],
                    str(tmp_path / "t.png"), task.mapping, CRFParams(tile=64, tile_overlap=16),
                    roi=task.roi)
    refine_file(tiled)
    assert ((read_mask(tiled.out_path) == 255) == labels).mean() > 0.99


def test_tuning_scores_the_crf_as_refine_crf_runs_it(tmp_path):
    _, spots = _fundus(tmp_path)
    job = CountJob(str(tmp_path / "i.png"), str(tmp_path / "p.npy"), str(tmp_path / "m.png"),
                   MaskMapping((0, 255)), [CRFParams()], roi=str(tmp_path / "roi.png"))
    raw, (crf,) = _image_counts(job)
    assert crf[1, 1] > 0.95 * spots.sum()
    assert crf.sum() == raw.sum() < N * N  # outside the roi: not scored


def test_nan_probabilities_are_refused_naming_the_file(tmp_path):
    # Four NaN pixels turned a whole 96x96 CRF mask into class 0, without a word.
    _fundus(tmp_path)
    probs = np.load(tmp_path / "p.npy")
    probs[:, 10:12, 40:42] = np.nan
    np.save(tmp_path / "p.npy", probs)
    task = CRFTask(str(tmp_path / "i.png"), str(tmp_path / "p.npy"), str(tmp_path / "c.png"),
                   MaskMapping((0, 255)), CRFParams())
    with pytest.raises(ValueError, match=r"p\.npy: CRF probabilities hold 8 NaN.*rerun"):
        refine_file(task)
    job = CountJob(str(tmp_path / "i.png"), str(tmp_path / "p.npy"), str(tmp_path / "m.png"),
                   MaskMapping((0, 255)), [CRFParams()])
    with pytest.raises(ValueError, match=r"p\.npy: CRF probabilities hold 8 NaN"):
        _image_counts(job)
