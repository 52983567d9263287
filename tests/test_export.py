"""ONNX export: the metadata a user of the file needs to get `unet predict`'s masks from it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.test_native_predict import _native
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_files
from unet.model.export import export_onnx


def _session(path):
    ort = pytest.importorskip("onnxruntime", reason="pip install -e '.[onnx]'")
    session = ort.InferenceSession(str(path))
    meta = {k: json.loads(v) for k, v in session.get_modelmeta().custom_metadata_map.items()}
    return session, meta


def test_a_patch_trained_models_export_names_its_patch(tmp_path):
    """A patch-trained model predicts by sliding window over tiles of its patch size; the ONNX
    metadata left the patch out, so a user could not know the window (run on whole images at
    multiples of 2^depth, 90x60 differed from unet predict's mask at some pixels)."""
    _native(tmp_path, patch=(32, 16))
    export_onnx(tmp_path / "model.pt", tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    assert meta["patch"] == [32, 16]  # (width, height), as `size`
    # One tile of the patch's size is the whole window: the graph gives unet predict's mask.
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (16, 32, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "tile.png")
    predict_files([tmp_path / "model.pt"], [tmp_path / "tile.png"], tmp_path / "out",
                  PredictSettings(device="cpu"))
    x = (image.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    (logits,) = session.run(None, {"image": x})
    mask = np.asarray(Image.open(tmp_path / "out/tile.png"))
    np.testing.assert_array_equal(np.array(meta["class_values"])[logits[0].argmax(0)], mask)


def test_a_whole_image_models_export_says_it_has_no_patch(tmp_path):
    _native(tmp_path, patch=(32, 32))
    import torch

    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record["train_settings"] = {}
    torch.save(record, tmp_path / "whole.pt")
    export_onnx(tmp_path / "whole.pt", tmp_path / "m.onnx")
    assert _session(tmp_path / "m.onnx")[1]["patch"] is None


def test_the_readmes_recipe_gives_unet_predicts_masks_at_any_image_size(tmp_path):
    """The README said only 'resize to the model's size': resizing the argmax mask back to the
    image changed 1 % of the pixels. Its recipe (PIL bilinear with reducing_gap 2 in, logits
    bilinearly back to the image's size, then the argmax) gives the masks exactly."""
    import torch
    import torch.nn.functional as F

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record.update(mode="resize", size=[48, 32], scale=None, train_settings={})
    torch.save(record, tmp_path / "resized.pt")
    export_onnx(tmp_path / "resized.pt", tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    rng = np.random.default_rng(4)
    small = rng.integers(0, 255, (10, 14, 3), np.uint8)
    image = Image.fromarray(small).resize((101, 67), Image.Resampling.BILINEAR)
    image.save(tmp_path / "new.png")
    predict_files([tmp_path / "resized.pt"], [tmp_path / "new.png"], tmp_path / "out",
                  PredictSettings(device="cpu"))
    x = np.asarray(image.resize(tuple(meta["size"]), Image.Resampling.BILINEAR,
                                reducing_gap=2.0), np.float32) / 255
    (logits,) = session.run(None, {"image": x.transpose(2, 0, 1)[None]})
    back = F.interpolate(torch.from_numpy(logits), size=(67, 101), mode="bilinear",
                         align_corners=False)
    mask = np.array(meta["class_values"])[back[0].argmax(0).numpy()]
    expected = np.asarray(Image.open(tmp_path / "out/new.png"))
    assert len(np.unique(expected)) == 2
    np.testing.assert_array_equal(mask, expected)
