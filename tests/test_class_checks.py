"""What the masks hold, checked before anything trains: no foreground to learn or to validate
on, a class the training masks lack, lossy or stray values taken for classes, a void value
trained as a class. Each was found on a real data set's shape, silent before."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import H, W, _antialiased, _dataset, _preprocess
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.common.fileio import read_json, write_json
from unet.common.labels import MaskValueError


def test_training_masks_without_any_foreground_are_refused(tmp_path, caplog):
    """0/1 masks with masks.threshold 127 (meant for 0/255) hold no foreground pixel: before,
    training ran, validation Dice read 1.0 every epoch and every score came out perfect."""
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8))
    with pytest.raises(MaskValueError, match=r"no pixel of class 1.*masks.threshold 127"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H, mask_threshold=127))
    assert not (tmp_path / "cache/meta.json").exists()


def test_a_class_the_training_masks_lack_is_warned_of(tmp_path, caplog):
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8) * 255)
    masks = {"values": [0, 255, 128], "threshold": None,
             "max_values": 16, "ignore": None}
    settings = settings_from_config({"width": W, "height": H}, masks)
    _preprocess(tmp_path, settings)
    assert "class 2 (value 128) has no pixel in the training masks" in caplog.text


def test_the_untrained_class_warning_says_it_is_never_predicted(tmp_path, caplog):
    # Said "the model may still predict it, only ever by chance": on VOC-like data with values
    # 0-20, a model trained on classes 1 and 15 predicted class 7 (no training pixel) on every
    # test image. Prediction now gives it probability 0 (tests/test_untrained_classes.py).
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8) * 255)
    masks = {"values": [0, 255, 128], "threshold": None, "max_values": 16, "ignore": None}
    _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert "so the model never predicts it (its probability is 0)" in caplog.text
    assert "by chance" not in caplog.text


def test_a_validation_split_without_foreground_is_refused(tmp_path):
    """Cloud-free 38-Cloud patches, all in validation: every epoch's validation Dice was 0/0,
    counted 1.0 for the untrained first epoch, which was kept as the best model, silently."""
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8) * 255 * (i not in (4, 5)))
    with pytest.raises(MaskValueError, match=r"val split.*no pixel of class 1.*split.val_ids"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert not (tmp_path / "cache/meta.json").exists()


def test_a_test_split_without_foreground_is_warned_of(tmp_path, caplog):
    """BUSI's "normal" folder as the test group: every test score could only read 1 (nothing
    predicted) or 0, with no word of why."""
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8) * 255 * (i < 6))
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert "test split's masks" in caplog.text and "no pixel of class 1" in caplog.text


def test_jpeg_masks_with_a_few_artefact_values_are_refused(tmp_path):
    """Kvasir-style masks saved as JPEG at quality 98 hold 0-3 and 252-255: each value became
    a class (8 classes, foreground Dice 0.12) without a word. Now refused, naming a file."""
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: (disc > 0.5).astype(np.uint8) * 255)
    for i in range(8):
        grey = np.asarray(Image.open(tmp_path / f"msk{i}.png"))
        grey = grey.copy()
        grey[0, :3] = (1, 2, 254)  # what JPEG's rounding leaves at edges
        Image.fromarray(grey).save(tmp_path / f"msk{i}.jpg", quality=98)
    manifest = read_json(tmp_path / "manifest.json")
    for p in manifest["pairs"]:
        p["mask"] = p["mask"].replace(".png", ".jpg")
    write_json(tmp_path / "manifest.json", manifest)
    with pytest.raises(MaskValueError, match=r"msk0\.jpg.*JPEG.*masks.threshold: 127"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))


def test_too_many_values_are_traced_to_the_files_holding_them(tmp_path):
    """One anti-aliased mask among clean ones: the error named no file, and its suggested
    threshold would have hidden the bad one."""
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, disc: _antialiased(i, disc) if i == 3 else
             (disc > 0.5).astype(np.uint8) * 255)
    with pytest.raises(MaskValueError, match=r"most in .*msk3\.png \(\d+ values\)"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H, max_mask_values=4))


def test_a_value_on_a_few_pixels_is_warned_of(tmp_path, caplog):
    """Nine stray pixels of 128 in one PNG made a third class, with no warning."""
    def stray(i, disc):
        mask = (disc > 0.5).astype(np.uint8) * 255
        if i == 0:
            mask[0, :2] = 128
        return mask

    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L", stray)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 128, 255]
    assert "class 1 (value 128) covers only" in caplog.text and "masks.values" in caplog.text


def test_a_void_value_far_above_the_classes_is_warned_of(tmp_path, caplog):
    """VOC's masks hold class numbers 0-20 and 255 on object borders (void): detected, 255
    became a class of its own without a word (the hint came only past 16 values)."""
    def voc(i, disc):
        inner, ring = disc > 0.7, (disc > 0.1) & (disc <= 0.7)
        return np.where(ring, 255, np.where(inner, 7 + 5 * (i % 2), 0)).astype(np.uint8)

    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L", voc)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 7, 12, 255]
    assert "value 255" in caplog.text and "masks.ignore: 255" in caplog.text
