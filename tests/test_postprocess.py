"""final/masks: the post-processing that won on validation, never one that lost (issue 11.5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from unet.common.fileio import read_json, write_json
from unet.common.labels import MaskMapping
from unet.crf.dense import CRFParams
from unet.postprocess.components import find_components, largest_component, remove_small
from unet.postprocess.finalize import FinalSettings, choose, finalize_masks

H, W = 24, 32
MAPPING = MaskMapping((255, 0))  # ISBI-like: class 1 is the dark value


def test_largest_component_keeps_the_biggest_blob_per_class():
    labels = np.zeros((H, W), np.uint8)
    labels[2:10, 2:10] = 1  # 64 px
    labels[15:18, 20:23] = 1  # 9 px: removed
    labels[20:22, 0:4] = 2  # the only class-2 blob: kept
    out = largest_component(labels, 3)
    assert (out[2:10, 2:10] == 1).all() and (out[15:18, 20:23] == 0).all()
    assert (out[20:22, 0:4] == 2).all()


def test_diagonal_neighbours_are_one_component():
    labels = np.zeros((H, W), np.uint8)
    labels[np.arange(10), np.arange(10)] = 1  # a diagonal line: 8-connected
    assert np.array_equal(largest_component(labels, 2), labels)


def test_raw_wins_ties_and_small_gains():
    assert choose({"raw": 0.8, "crf": 0.8, "largest_component": 0.7}, 0.0)[0] == "raw"
    chosen, reason = choose({"raw": 0.8, "crf": 0.78, "largest_component": 0.6}, 0.005)
    assert chosen == "raw" and "no post-processing beat" in reason and "crf 0.7800" in reason
    assert choose({"raw": 0.8, "crf": 0.85, "largest_component": 0.6}, 0.005)[0] == "crf"
    # A tuned CRF's best-of-grid score is biased up: a gain under min_gain is not enough.
    assert choose({"raw": 0.8, "crf": 0.8001}, 0.005)[0] == "raw"
    assert choose({"raw": 0.8}, 0.005) == (
        "raw", "no post-processing was a candidate"
    )


def _case(root: Path, crf_dice: float, spurious: bool = True) -> dict:
    """Validation probabilities with a spurious blob, test masks in raw/ and crf/, a tuning."""
    rng = np.random.default_rng(0)
    truth = np.zeros((H, W), np.uint8)
    truth[4:16, 4:16] = 1
    pairs, ids = [], {"val": ["v0", "v1"], "test": ["t0", "t1"]}
    for split, names in ids.items():
        for name in names:
            image, gt = root / f"{name}.png", root / f"{name}_gt.png"
            Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(image)
            MAPPING.write(gt, truth)
            pairs.append({"id": name, "image": str(image), "mask": str(gt), "size": [W, H]})
            if split == "val":
                pred = truth.copy()
                if spurious:  # a stray blob: the largest component removes it
                    pred[20:22, 26:30] = 1
                else:  # one blob, partly missed: the component filter changes nothing
                    pred[4:6, 4:16] = 0
                probs = np.stack([1.0 - pred, pred]).astype(np.float16) * 0.8 + 0.1
                (root / "val/probs").mkdir(parents=True, exist_ok=True)
                np.save(root / "val/probs" / f"{name}.npy", probs)
            else:
                for method, value in (("test", 1), ("crf", 0)):
                    MAPPING.write(root / method / "masks" / f"{name}.png", truth * value)
    meta = {"class_values": [255, 0], "num_classes": 2,
            "splits": {s: {"ids": v} for s, v in ids.items()}}
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "meta.json", meta)
    write_json(root / "tuning.json", {"best_dice": crf_dice, "raw_dice": 0.0})
    return meta


def _finalize(root: Path, candidates=("crf", "largest_component"), sizes=(16,)) -> dict:
    return finalize_masks(root / "manifest.json", root / "meta.json", root / "val",
                          root / "test", root / "crf", root / "final",
                          FinalSettings(candidates, 0.005, sizes), CRFParams(), 12,
                          tuning_json=root / "tuning.json")


def test_crf_that_lost_on_validation_is_not_the_final_output(tmp_path):
    _case(tmp_path, crf_dice=0.5)
    choice = _finalize(tmp_path)
    assert choice["chosen"] == "largest_component"  # the spurious blob costs raw its lead
    assert choice["val_foreground_dice"]["largest_component"] == pytest.approx(1.0)
    assert choice["val_foreground_dice"]["crf"] == 0.5
    assert read_json(tmp_path / "final/choice.json") == choice


@pytest.mark.parametrize(("crf_dice", "chosen", "source"), [(0.5, "raw", "test"),
                                                           (0.99, "crf", "crf")])
def test_final_masks_are_the_chosen_ones(tmp_path, crf_dice, chosen, source):
    _case(tmp_path, crf_dice, spurious=False)
    choice = _finalize(tmp_path, ("crf",))
    assert choice["chosen"] == chosen
    for name in ("t0", "t1"):
        written = (tmp_path / "final/masks" / f"{name}.png").read_bytes()
        assert written == (tmp_path / source / "masks" / f"{name}.png").read_bytes()
    assert not list((tmp_path / "final/masks").glob(".*"))  # no partial files left


def test_largest_component_only_when_asked(tmp_path):
    _case(tmp_path, crf_dice=0.5)
    choice = _finalize(tmp_path, ("crf",))
    assert choice["chosen"] == "raw" and "largest_component" not in choice["val_foreground_dice"]


def test_small_objects_removes_blobs_below_the_size_per_class():
    labels = np.zeros((H, W), np.uint8)
    labels[2:10, 2:10] = 1  # 64 px: kept
    labels[15:18, 20:23] = 1  # 9 px: removed
    labels[20:22, 0:4] = 2  # 8 px of class 2
    labels[12:20, 0:4] = 2  # 32 px of class 2 (touching the 8 px: one 40 px blob): kept
    out = remove_small(labels, find_components(labels, 3), 10)
    assert (out[2:10, 2:10] == 1).all() and (out[15:18, 20:23] == 0).all()
    assert (out[12:22, 0:4] == 2).all()  # the 8 px joined the 32 px blob: 40 px, kept
    assert np.array_equal(remove_small(labels, find_components(labels, 3), 1), labels)
    assert not remove_small(labels, find_components(labels, 3), 65).any()


def test_a_removed_blob_takes_the_class_around_it():
    labels = np.zeros((H, W), np.uint8)
    labels[2:20, 2:20] = 1  # an object of class 1 ...
    labels[8:10, 8:10] = 2  # ... holding a 4 px speck of class 2: it becomes class 1, not 0
    labels[0, 30:32] = 2  # a speck in the background: background
    out = remove_small(labels, find_components(labels, 3), 16)
    assert (out[2:20, 2:20] == 1).all() and not out[0, 30:32].any()


def test_without_a_background_class_every_class_loses_its_specks():
    labels = np.ones((H, W), np.uint8)  # class 1 everywhere (both classes are scored) ...
    labels[5:7, 5:7] = 0  # ... but a 4 px speck of class 0: it becomes class 1
    labels[12:24, 0:12] = 0  # a 144 px region of class 0: kept
    out = remove_small(labels, find_components(labels, 2, first=0), 16)
    assert (out[5:7, 5:7] == 1).all() and not out[12:24, 0:12].any()
    assert out.sum() == H * W - 144


def _specks(root: Path) -> None:
    """Validation predictions with specks of 2 px beside a 144 px object (truth: the object),
    and test raw masks with a 4 px speck."""
    _case(root, crf_dice=0.5, spurious=False)
    truth = np.zeros((H, W), np.uint8)
    truth[4:16, 4:16] = 1
    for name in ("v0", "v1"):
        pred = truth.copy()
        pred[20, 20:22] = pred[22, 26:28] = pred[1, 28:30] = 1  # three 2 px specks
        pred[18:24, 0:2] = 1  # a 12 px false blob: a larger min_size removes it too
        probs = np.stack([1.0 - pred, pred]).astype(np.float16) * 0.8 + 0.1
        np.save(root / "val/probs" / f"{name}.npy", probs)
    for name in ("t0", "t1"):
        raw = truth.copy()
        raw[20:22, 20:22] = 1  # 4 px: under the chosen size
        MAPPING.write(root / "test" / "masks" / f"{name}.png", raw)


def test_small_objects_chooses_its_size_on_validation(tmp_path):
    _specks(tmp_path)
    choice = _finalize(tmp_path, ("small_objects",), (2, 16, 256))
    assert choice["chosen"] == "small_objects"
    # 2 px removes nothing (sizes below 2 go), 16 px the specks and the 12 px blob, 256 px
    # the object too: 16 wins
    by_size = choice["small_objects"]["val_foreground_dice"]
    assert by_size["2"] < by_size["16"] and by_size["256"] == 0.0
    assert choice["small_objects"]["min_size"] == 16
    assert "under 16 px" in choice["reason"]
    assert choice["val_foreground_dice"]["small_objects"] == pytest.approx(1.0)
    for name in ("t0", "t1"):
        final = MAPPING.read_index(tmp_path / "final/masks" / f"{name}.png", "final")
        assert final.sum() == 144 and final[4:16, 4:16].all()  # the 4 px speck is gone
    assert read_json(tmp_path / "final/choice.json") == choice


def test_smallest_size_wins_ties(tmp_path):
    _specks(tmp_path)
    choice = _finalize(tmp_path, ("small_objects",), (64, 16, 32))
    assert choice["small_objects"]["min_size"] == 16  # 16, 32 and 64 all score 1.0


@pytest.mark.parametrize("seed", range(5))
def test_binary_small_objects_is_the_plain_min_area_filter(seed):
    """With one foreground class, merging into the neighbours is removing: a speck borders
    only background (anything of its class touching it would be part of it)."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    labels = (ndimage.gaussian_filter(rng.random((64, 80)), 1.5) > 0.52).astype(np.uint8)
    comps, _ = ndimage.label(labels, structure=np.ones((3, 3), bool))
    sizes = np.bincount(comps.ravel())
    sizes[0] = 0
    for min_size in (2, 5, 20, 100):
        want = np.where((comps > 0) & (sizes[comps] < min_size), 0, labels)
        got = remove_small(labels, find_components(labels, 2), min_size)
        assert np.array_equal(got, want)


def test_largest_component_without_a_background_merges_specks_into_their_surroundings():
    """masks.background false: class 0 is a class (Cityscapes' road). A class-1 speck inside
    a class-2 region became class 0, painting road inside an object, and class 0's own
    specks were never filtered."""
    from unet.postprocess.components import largest_component

    lab = np.full((10, 10), 2, np.uint8)
    lab[:, :5] = 0
    lab[1:4, 1:4] = 1
    lab[7, 8] = 1  # a class-1 speck in class 2
    lab[8, 7] = 0  # a class-0 speck in class 2
    out = largest_component(lab, 3, first=0)
    assert out[7, 8] == 2 and out[8, 7] == 2
    assert (out[1:4, 1:4] == 1).all() and (out[:, :5][lab[:, :5] == 0] == 0).all()
    assert largest_component(lab, 3)[7, 8] == 0  # with a background: the rest is background


def _sizes(labels: np.ndarray, c: int) -> list[int]:
    comps, _ = ndimage.label(labels == c, structure=np.ones((3, 3), bool))
    return sorted(np.bincount(comps.ravel())[1:].tolist())


def test_a_speck_inside_a_removed_object_goes_with_it():
    # One pass merged a class-1 speck into the class-2 blob around it, then that blob into the
    # background: the speck came out as a 4 px class-2 object, under the minimum size.
    labels = np.zeros((30, 30), np.uint8)
    labels[5:12, 5:12], labels[7:9, 7:9] = 2, 1  # 45 px of class 2 around 4 px of class 1
    labels[20:28, 20:28] = 2  # 64 px: kept
    out = remove_small(labels, find_components(labels, 3), 50)
    assert _sizes(out, 1) == [] and _sizes(out, 2) == [64]


def test_without_background_every_class_keeps_one_object_even_nested():
    labels = np.zeros((30, 30), np.uint8)
    labels[:, 15:] = 1
    labels[2:10, 2:10], labels[14:20, 3:9], labels[16:18, 5:7] = 2, 2, 1
    out = largest_component(labels, 3, first=0)
    assert [len(_sizes(out, c)) for c in range(3)] == [1, 1, 1]


def test_validation_without_foreground_chooses_nothing(tmp_path):
    # Ground truth without foreground: a CRF that erased the raw masks' false positives scored
    # 1.0 against raw's 0.0 and was chosen, to erase the true objects of the test split.
    _case(tmp_path, crf_dice=1.0)
    for name in ("v0", "v1"):
        MAPPING.write(tmp_path / f"{name}_gt.png", np.zeros((H, W), np.uint8))
    choice = _finalize(tmp_path, ("crf", "largest_component"))
    assert choice["chosen"] == "raw"
    assert "hold no foreground" in choice["reason"] and "crf 1.0000" in choice["reason"]
    assert choice["val_foreground_dice"]["raw"] == 0.0
