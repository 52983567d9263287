"""Objects too small for the cache's resize: the validation refusal and the test warning say
that the resize lost them, not that the masks hold none."""

import logging

import numpy as np
import pytest
from PIL import Image

from unet.cache.class_checks import check_validation
from unet.cache.preprocess import resize_mask
from unet.common.label_tables import class_counts
from unet.common.labels import MaskMapping, MaskValueError

MAPPING = MaskMapping((0, 255))


def _pairs(tmp_path, objects: dict[str, bool]) -> tuple[dict, dict]:
    """400x400 masks, each holding a 3x3 object (or none) between the pixels a 48x32 resize
    samples, and the cache's (digest, class counts) of each at 48x32."""
    by_id, cached = {}, {}
    for i, held in objects.items():
        mask = np.zeros((400, 400), np.uint8)
        if held:
            mask[8:11, 8:11] = 255
        path = tmp_path / f"{i}.png"
        Image.fromarray(mask).save(path)
        small = MAPPING.to_index(resize_mask(mask, (48, 32)))
        assert not small.any()  # the resize loses the object
        by_id[i] = {"id": i, "mask": str(path)}
        cached[i] = ("digest", class_counts(small))
    return by_id, cached


def test_val_objects_lost_in_the_resize_are_named_as_such(tmp_path):
    # Said "the val split's masks (e.g. a.png) hold no pixel of class 1", which a.png does.
    by_id, cached = _pairs(tmp_path, {"a": True, "b": False, "c": True})
    split = {"train": [], "val": ["a", "b"], "test": ["c"]}
    with pytest.raises(MaskValueError) as err:
        check_validation(split, cached, MAPPING, by_id)
    text = str(err.value)
    assert "hold no pixel" not in text
    assert "a.png" in text and "resize" in text and "preprocess.width" in text
    assert "preprocess.mode: native" in text


def test_test_objects_lost_in_the_resize_are_not_called_absent(tmp_path, caplog):
    by_id, cached = _pairs(tmp_path, {"a": False, "v": False, "c": True})
    cached["v"] = ("digest", np.bincount([0, 1], minlength=256))  # val holds class 1
    split = {"train": [], "val": ["v"], "test": ["a", "c"]}
    with caplog.at_level(logging.WARNING):
        check_validation(split, cached, MAPPING, by_id)
    text = caplog.text
    assert "hold no pixel" not in text
    assert "c.png" in text and "resize" in text


def test_masks_without_objects_are_still_refused_as_before(tmp_path):
    by_id, cached = _pairs(tmp_path, {"a": False, "b": False})
    with pytest.raises(MaskValueError, match="hold no pixel of class 1"):
        check_validation({"train": [], "val": ["a"], "test": ["b"]}, cached, MAPPING, by_id)


def test_training_objects_lost_in_the_resize_are_named_as_such(tmp_path):
    # Said "the training masks hold no pixel of class 1 ...: check masks.values".
    from unet.cache.class_checks import describe_classes

    by_id, cached = _pairs(tmp_path, {"a": True, "b": True})
    counts = sum(c for _, c in cached.values())
    with pytest.raises(MaskValueError) as err:
        describe_classes(counts, MAPPING, True, [by_id[i]["mask"] for i in ("a", "b")])
    text = str(err.value)
    assert "hold no pixel" not in text and "resize" in text and "a.png" in text
