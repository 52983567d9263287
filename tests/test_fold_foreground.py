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
