"""evaluate.objects on anti-aliased masks: a 0/255 mask's edge greys under masks.threshold are no
instance ids of their own (evaluate.smear), while instance labels keep touching cells apart."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from tests.objects_reference import reference
from unet.evaluate.objects import image_objects, score_objects

IGN = 255


def _counts(ids: np.ndarray, threshold: float = 127, exact: bool = False,
            pred: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """(true, TP, FP, FN) of a mask thresholded, its own values as ids, predicted exactly."""
    target = (ids > threshold).astype(np.uint8)
    n = image_objects(target, target if pred is None else pred, 1, ids, IGN, exact)
    return n["true"], n["tp"], n["fp"], n["fn"]


def test_a_grey_edge_pixel_is_no_object_of_its_own(tmp_path):
    # two 4x4 cells of 255, one grey (200) pixel on the first's edge: read from the PNG under
    # threshold 127, predicted exactly. Before: 3 true objects (the grey its own), TP 2, FN 1.
    mask = np.zeros((8, 14), np.uint8)
    mask[2:6, 1:5], mask[2:6, 8:12] = 255, 255
    mask[2, 5] = 200
    Image.fromarray(mask).save(tmp_path / "m.png")
    target = (mask > 127).astype(np.uint8)
    got = score_objects(target, {"raw": target}, str(tmp_path / "m.png"), range(1, 2), IGN)
    n = got["raw"]["1"]
    assert (n["true"], n["tp"], n["fp"], n["fn"]) == (2, 2, 0, 0)


def _blobs() -> np.ndarray:
    """A clean 0/255 48x48 mask of 5 blobs: discs, a bar, a rectangle."""
    yy, xx = np.mgrid[:48, :48]
    clean = ((yy - 12) ** 2 + (xx - 12) ** 2 < 64) | ((yy - 34) ** 2 + (xx - 30) ** 2 < 90)
    clean |= ((yy - 10) ** 2 + (xx - 38) ** 2 < 20) | ((yy > 26) & (yy < 44) & (xx > 4) & (xx < 9))
    clean[44:47, 12:24] = True
    return np.where(clean, 255, 0).astype(np.uint8)


@pytest.mark.parametrize("size", [29, 61, 100, 173, 400])
def test_a_bilinearly_resized_mask_keeps_the_clean_masks_objects(size):
    clean = _blobs()
    grey = np.asarray(Image.fromarray(clean).resize((size, size), Image.BILINEAR))
    assert len(np.unique(grey)) > 20  # anti-aliased: many edge greys
    target = (grey > 127).astype(np.uint8)
    blobs = ndimage.label(target, structure=np.ones((3, 3)))[1]
    assert blobs == 5  # the clean mask's 5 objects, as the thresholded mask's blobs
    assert _counts(grey) == (5, 5, 0, 0)
    # each clean object predicted at the size by nearest resizing: all found
    near = np.asarray(Image.fromarray(clean).resize((size, size), Image.NEAREST)) > 0
    assert _counts(grey, pred=near.astype(np.uint8))[:2] == (5, 5)


def test_touching_instance_ids_stay_apart_16_bit():
    # 16-bit ids: three cells touching in one blob, one with a 1-px grey-like id on its edge
    ids = np.zeros((10, 16), np.uint16)
    ids[1:6, 1:6], ids[1:6, 6:11], ids[4:9, 11:15] = 300, 40000, 7
    ids[1, 5] = 1234  # a lone pixel value on 300's edge: smear, merged into 300 (no 4th object)
    pred = np.zeros(ids.shape, np.uint8)  # each cell predicted 1 px smaller: apart
    pred[1:5, 1:5], pred[1:5, 7:11], pred[5:9, 12:15] = 1, 1, 1
    assert _counts(ids, 0, pred=pred) == (3, 3, 0, 0)
    # ids drawn by the pipeline (masks.separate) are taken as drawn: 1234 is an object, missed
    assert _counts(ids, 0, exact=True, pred=pred) == (4, 3, 0, 1)


def test_tiny_objects_alone_stay_objects_touching_ones_merge():
    # 1-px and 1x2 objects alone in the background: no interior pixel, but a blob of their own,
    # so each is one object. A 1-px-wide id (a 1x3 sliver) touching a 5x5 cell merges into it.
    ids = np.zeros((12, 12), np.uint16)
    ids[1, 1], ids[1, 4:6] = 5, 6
    ids[5:10, 5:10], ids[5:8, 4] = 1, 2
    assert _counts(ids, 0, exact=True)[0] == 4
    assert _counts(ids, 0)[0] == 3


def test_objects_one_slice_thick_keep_their_ids_in_3d():
    # a (D, H, W) stack: two touching cells present in one slice only keep apart (the interior
    # is in-plane: no pixel of theirs has 6 neighbours of its id)
    ids = np.zeros((3, 8, 10), np.uint16)
    ids[1, 1:5, 1:5], ids[1, 1:5, 5:9] = 3, 9
    pred = (ids > 0).astype(np.uint8)
    pred[1, :, 5] = 0  # the two apart
    assert _counts(ids, 0, pred=pred) == (2, 2, 0, 0)


def test_images_without_smear_take_the_fast_path(monkeypatch):
    import unet.evaluate.objects as objects

    ids = np.zeros((6, 10), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 300, 7
    calls = []
    real = objects.merge_smear
    monkeypatch.setattr(objects, "merge_smear", lambda *a: calls.append(real(*a)) or calls[-1])
    assert _counts(ids, 0)[0] == 2 and calls == [None]  # nothing merged


def _resized_ids(rng: np.random.Generator) -> np.ndarray:
    """Blocky ids resized bilinearly: greys between ids, as a careless resize of labels."""
    ids = np.kron(rng.integers(0, 6, (6, 6)), np.ones((4, 4), np.int64)).astype(np.uint8) * 40
    return np.asarray(Image.fromarray(ids).resize((37, 37), Image.BILINEAR))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("depth", [0, 3])
def test_smear_merge_matches_the_reference(seed, depth):
    rng = np.random.default_rng(seed)
    # 2-D, or a (3, H, W) stack of such slices; some pixels ignored; prediction shifted, specked
    ids = np.stack([_resized_ids(rng) for _ in range(depth)]) if depth else _resized_ids(rng)
    target = (ids > 30).astype(np.uint8)
    target[rng.random(ids.shape) < 0.03] = IGN
    pred = np.roll(ids > 30, rng.integers(-2, 3), axis=-1) ^ (rng.random(ids.shape) < 0.04)
    got = image_objects(target, pred.astype(np.uint8), 1, ids, IGN)
    want = reference(np.where(target == 1, ids, 0), pred, target != IGN, ids)
    assert got["iou_sum"] == pytest.approx(want.pop("iou_sum"))
    assert got["seg_sum"] == pytest.approx(want.pop("seg_sum"))
    assert {k: got[k] for k in want} == want


def test_evaluate_masks_takes_drawn_ids_as_drawn_and_merges_source_smear(tmp_path):
    """evaluate_masks: ids drawn at download (the manifest's mask_objects) are exact, so a
    1-px-wide drawn object touching another stays an object; the same ids as the source mask
    under masks.threshold are merged (no pixel of the sliver has 4 neighbours of its id)."""
    import json

    import tifffile

    from unet.evaluate.evaluate import evaluate_masks

    ids = np.zeros((12, 12), np.uint16)
    ids[5:10, 5:10], ids[5:8, 4] = 1, 2
    tifffile.imwrite(tmp_path / "a.objects.tif", ids)
    binary = Image.fromarray(np.where(ids > 0, 255, 0).astype(np.uint8))
    binary.save(tmp_path / "a.png")
    Image.fromarray(ids.astype(np.uint8)).save(tmp_path / "b.png")  # the ids as source mask
    (tmp_path / "pred").mkdir()
    binary.save(tmp_path / "pred/a.png")
    binary.save(tmp_path / "pred/b.png")
    pairs = {"drawn": {"id": "a", "mask": str(tmp_path / "a.png"),
                       "mask_objects": str(tmp_path / "a.objects.tif")},
             "source": {"id": "b", "mask": str(tmp_path / "b.png")}}
    got = {}
    for kind, pair in pairs.items():
        (tmp_path / "manifest.json").write_text(json.dumps({"pairs": [pair]}))
        meta = {"class_values": [0, 255], "splits": {"test": {"ids": [pair["id"]]}},
                **({"mask_threshold": 0} if kind == "source" else {})}
        (tmp_path / "meta.json").write_text(json.dumps(meta))
        summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                                 {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                                 tmp_path / "summary.json", objects=True)
        got[kind] = summary["methods"]["raw"]["objects"]["1"]["true"]
    assert got == {"drawn": 2, "source": 1}
