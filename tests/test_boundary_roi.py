"""Outside a region of interest (dataset.<source>.roi) is beyond the image's edge for the
boundary scores, as the image's own edge is: a class's pixels beside it are boundary, and it is
no place where an unknown edge may lie (masks.ignore's trimap band is)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping
from unet.common.maskio import write_mask_png
from unet.evaluate.boundary import image_scores
from unet.evaluate.evaluate import ScoreJob, score_image

MAPPING = MaskMapping((0, 255))
BOX = slice(5, 55), slice(5, 55)  # the region of interest: a 50x50 square in a 60x60 image


def _score(tmp_path: Path, target: np.ndarray, pred: np.ndarray, roi: bool) -> dict:
    """Class-1 scores of 0/1 masks as evaluate_masks gives them, with the ROI file or without."""
    write_mask_png(tmp_path / "gt.png", target * 255)
    write_mask_png(tmp_path / "raw.png", pred * 255)
    inside = np.zeros(target.shape, np.uint8)
    inside[BOX] = 255
    Image.fromarray(inside).save(tmp_path / "roi.png")
    job = ScoreJob("a", str(tmp_path / "gt.png"), {"raw": str(tmp_path / "raw.png")}, MAPPING,
                   2, str(tmp_path / "roi.png") if roi else None)
    s = score_image(job)["scores"]["raw"]
    return {k: float(s[k][1]) for k in ("dice", "hd95", "boundary_f1")}


def _bar() -> np.ndarray:
    mask = np.zeros((60, 60), np.uint8)
    mask[28:32, 15:45] = 1
    return mask


def test_a_false_strip_along_the_roi_edge_is_no_matched_boundary(tmp_path):
    """A false 50x2 strip inside the ROI's edge, beside a bar found exactly, scored boundary F1
    1.0 and HD95 2.0: its edge was matched to the ignored pixels beyond the ROI. It now scores as
    the same strip along the edge of an image the size of the ROI."""
    target, pred = _bar(), _bar()
    pred[5:55, 5:7] = 1
    with_roi = _score(tmp_path, target, pred, roi=True)
    cropped = image_scores(pred[BOX], target[BOX], 2)
    assert with_roi["boundary_f1"] == pytest.approx(cropped["boundary_f1"][1])
    assert with_roi["hd95"] == pytest.approx(cropped["hd95"][1])
    assert with_roi["boundary_f1"] < 0.6 and with_roi["hd95"] > 20


@pytest.mark.parametrize("seed", range(4))
def test_scores_with_a_roi_equal_those_of_the_roi_as_the_image(tmp_path, seed):
    """Whatever either mask holds outside the ROI, the scores are those of the ROI's box alone
    (ignored pixels inside it keep the trimap rule, in both)."""
    rng = np.random.default_rng(seed)
    target = (rng.random((60, 60)) < 0.5).astype(np.uint8)
    target[:, 20:] = np.repeat(rng.random((60, 1)) < 0.5, 40, axis=1)  # long edges to the rim
    pred = np.roll(target, int(rng.integers(-3, 4)), axis=1)
    pred[rng.random((60, 60)) < 0.05] ^= 1
    with_roi = _score(tmp_path, target, pred, roi=True)
    cropped = image_scores(pred[BOX], target[BOX], 2)
    for k in ("dice", "hd95", "boundary_f1"):
        assert with_roi[k] == pytest.approx(cropped[k][1]), k
