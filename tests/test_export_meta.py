"""ONNX export: the file says, in its own metadata, how an image becomes its input."""

from __future__ import annotations

import pytest

from tests.test_export import _session
from unet.model import checkpoint
from unet.model.export import export_onnx
from unet.model.unet import UNet, UNetConfig

pytest.importorskip("onnxscript", reason="pip install -e '.[onnx]'")


def _exported(tmp_path, channels: int, **data) -> dict:
    """The metadata of a tiny `channels`-channel model's ONNX file."""
    config = UNetConfig(in_channels=channels, num_classes=2, depth=2, base_width=4)
    meta = {"class_values": [0, 255], "size": [32, 32], "in_channels": channels,
            "num_classes": 2, **data}
    record = checkpoint.model_record(config.to_dict(), UNet(config).state_dict(), meta, {}, 1,
                                     None, [0.5, 0.5], "h")
    checkpoint.save(tmp_path / f"{channels}.pt", record)
    export_onnx(tmp_path / f"{channels}.pt", tmp_path / f"{channels}.onnx")
    import onnx

    doc = onnx.load(str(tmp_path / f"{channels}.onnx")).doc_string
    return {**_session(tmp_path / f"{channels}.onnx")[1], "doc": doc}


def test_the_files_metadata_says_how_an_image_becomes_its_input(tmp_path):
    """The metadata gave the channels' count and the class values, but not the channels'
    order, how a colour image becomes a grey model's one channel, or the values' scale
    ([0, 1], 8-bit / 255): a user of the file alone (OpenCV, a browser) had to guess, and
    OpenCV's BGR or 0-255 input gives other masks without a word."""
    rgb = _exported(tmp_path, 3)["input"]
    assert "RGB" in rgb["channels"] and "BGR" in rgb["channels"]
    assert "/ 255" in rgb["values"] and "[0, 1]" in rgb["values"]
    assert rgb["layout"] == "image (B, 3, H, W) float32"
    grey = _exported(tmp_path, 1, intensity_range=[100.0, 4000.0])
    assert "0.299" in grey["input"]["channels"]  # PIL's convert("L") of a colour image
    assert "intensity_range [100.0, 4000.0]" in grey["input"]["values"]
    bands = _exported(tmp_path, 4)["input"]
    assert "4 bands" in bands["channels"] and "TIFF" in bands["channels"]
    assert "[0, 1]" in grey["doc"] and "class_values" in grey["doc"]


def test_the_input_note_says_what_nodata_and_nan_become():
    """The note said a wide image was clipped to intensity_range and scaled, but not that
    `unet predict` reads a GeoTIFF's nodata value (and NaN) as the range's low end first: a
    scene's 65535 fill, clipped as the note said, entered as 1.0 in place of 0, and 4,838 of
    13,640 pixels of a 44x310 5-band scene's mask differed from unet predict's."""
    from unet.model.export import input_note

    for span in ([0.0, 1099.0], None):
        values = input_note({"in_channels": 5, "intensity_range": span})["values"]
        assert "nodata" in values and "NaN" in values and "as lo" in values, values


def test_the_input_note_names_config_keys_that_exist():
    """A multi-band model's note sent its user to `data.band_files`, a key no config has (the
    schema refuses it): the band order is `dataset.local.band_files`'."""
    import re

    import yaml

    from tests.test_readme import REPO
    from unet.model.export import input_note

    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text())
    note = input_note({"in_channels": 4, "intensity_range": [0.0, 6749.0]})["channels"]
    keys = re.findall(r"\b[a-z_]+(?:\.[a-z_]+)+\b", note)
    assert keys, note
    for key in keys:
        node = schema
        for part in key.split("."):
            props = dict(node.get("properties", {}))
            if "$ref" in node:  # a layout's keys live in $defs
                props.update(schema["$defs"][node["$ref"].rsplit("/", 1)[1]]["properties"])
            node = props[part]  # KeyError: the note names no such key


def test_the_input_note_says_at_what_size_an_image_enters():
    """The note said how values and channels enter, not at what size: a slide model cached at
    preprocess.scale 0.25 (metadata `scale`) given a 40x slide's full-resolution pixels, as a
    QuPath script reads them, sees cells 4x the size it learnt, and gives other masks without
    an error."""
    from unet.model.export import input_note

    slide = input_note({"in_channels": 3, "mode": "native", "scale": 0.25})["size"]
    assert "times 0.25" in slide and "resized back" in slide and "pyramid" in slide, slide
    assert "own size" in input_note({"in_channels": 3, "mode": "native", "scale": 1.0})["size"]
    resized = input_note({"in_channels": 3, "mode": "resize", "size": [48, 32]})["size"]
    assert "48x32" in resized and "resized back" in resized, resized


def test_a_patch_models_input_note_says_how_its_window_slides():
    # The metadata gave `patch` alone: the tiles' step, alignment, Gaussian weight and how
    # they are merged were in the README and unet/infer/tiles.py, not in the file a deployer
    # holds; a window of other steps or weights gives other masks without an error.
    from unet.model.export import input_note

    ckpt = {"in_channels": 3, "mode": "native", "scale": 1.0, "model_config": {"depth": 2},
            "train_settings": {"patch": {"size": [32, 24]}}}
    window = input_note(ckpt)["window"]
    for said in ("32x24", "multiple of 4", "16x12", "edge", "sigma", "summed weights", "zero"):
        assert said in window, (said, window)
    assert "window" not in input_note({**ckpt, "train_settings": {}})
