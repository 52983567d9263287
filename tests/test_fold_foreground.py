"""Cross-validation folds: each fold is a validation split, and a fold whose masks hold no
foreground is refused as the val split is (its best epoch would be chosen on nothing)."""

import numpy as np
import pytest
from PIL import Image

from unet.cache.class_checks import check_validation
from unet.common.labels import MaskMapping, MaskValueError

MAPPING = MaskMapping((0, 255))


def _pairs(tmp_path, objects: dict[str, bool]) -> tuple[dict, dict]:
    """8x8 masks with (or without) an object, and the cache's class counts of each."""
    by_id, cached = {}, {}
    for i, held in objects.items():
        mask = np.zeros((8, 8), np.uint8)
        mask[2:5, 2:5] = 255 if held else 0
        Image.fromarray(mask).save(tmp_path / f"{i}.png")
        by_id[i] = {"id": i, "mask": str(tmp_path / f"{i}.png")}
        cached[i] = ("digest", np.bincount(MAPPING.to_index(mask).ravel(), minlength=256))
    return by_id, cached


def test_a_fold_without_foreground_is_refused_naming_it(tmp_path):
    # BUSI's 9 images in 3 folds put normal (1) and normal (2), empty masks, in fold 2: its
    # model kept epoch 4 of 15 at validation Dice 1.0 (nothing predicted), ensembled with
    # the others, and cross_validation.tsv averaged that 1.0 in.
    by_id, cached = _pairs(tmp_path, {"a": True, "b": True, "c": True, "n1": False,
                                      "n2": False, "t": True})
    split = {"train": ["b", "c", "n1", "n2"], "val": ["a"], "test": ["t"],
             "folds": [["a"], ["b", "c"], ["n1", "n2"]]}
    with pytest.raises(MaskValueError, match=r"fold 2.*n1\.png.*split\.seed"):
        check_validation(split, cached, MAPPING, by_id)


def test_folds_that_each_hold_foreground_pass(tmp_path):
    by_id, cached = _pairs(tmp_path, {"a": True, "b": True, "n1": False, "t": True})
    split = {"train": ["b", "n1"], "val": ["a"], "test": ["t"], "folds": [["a"], ["b", "n1"]]}
    check_validation(split, cached, MAPPING, by_id)


def test_a_class_in_one_folds_images_only_is_named_for_that_fold(caplog):
    # Class 2 in one image (c), dealt to fold 2: fold 2's model trained without it, predicted
    # none of it and scored 0 on it, without a word (only fold 0's training rows were checked).
    from unet.cache.class_checks import record_counts

    def counts(*classes: int) -> tuple[str, np.ndarray]:
        return "digest", np.bincount(classes, minlength=256)

    cached = {"a": counts(0, 1), "b": counts(0, 1), "c": counts(0, 1, 2), "d": counts(0, 1)}
    folds = [["a"], ["b"], ["c", "d"]]
    meta = {"num_classes": 3, "class_values": [0, 128, 255], "folds": folds,
            "splits": {"train": {"ids": ["b", "c", "d"]}, "val": {"ids": ["a"]}}}
    record_counts(meta, cached)
    assert meta["fold_class_counts"][2] == [2, 2, 1]
    notes = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(notes) == 1 and "class 2 (value 255)" in notes[0], notes
    assert "fold 2's images only, c (1 in all)" in notes[0], notes
