"""ONNX export: the metadata alone says how a wide image and a window reach `unet predict`'s
masks (a deployer without torch or this package, with onnxruntime and numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from unet.model.export import input_note

pytest.importorskip("onnxscript", reason="pip install -e '.[onnx]'")


def test_the_input_note_says_how_values_round_and_when_an_image_is_resized():
    """`values` said "in steps of 1/255" (rounded or floored?) and `size` "resized to 48x32
    first" (before the values are scaled?): floored steps changed 19 of 41,526 pixels of ten
    16-bit images' masks, and the scaled floats resized in place of 8-bit planes 4; the
    float16 softmax of unet predict's masks was in the README alone (5 pixels of ten RGB
    images' masks), and the EXIF turn too."""
    from unet.common.decoders import scaled_8_bits

    note = input_note({"in_channels": 1, "mode": "resize", "size": [48, 32],
                       "intensity_range": [0.0, 510.0]})
    assert "numpy.round(x * 255) / 255" in note["values"], note["values"]
    for said in ("once its values", "8-bit plane", "mode 'L'", "float16", "exif_transpose"):
        assert said in note["size"], (said, note["size"])
    assert "exif_transpose" in input_note({"in_channels": 3, "mode": "native"})["size"]
    v = np.arange(0, 511, dtype=np.uint16)  # every half step of 510 / 255 = 2
    as_said = np.round(np.clip((v - 0.0) / 510.0, 0, 1) * 255)
    np.testing.assert_array_equal(scaled_8_bits(v, 0.0, 510.0), as_said)


def test_the_window_note_says_where_the_gaussian_centres_and_the_padding_goes():
    """`window` gave the Gaussian's sigma, not its centre, nor where a short side's zeros go:
    centred at side / 2, 4 of 41,526 pixels of ten native images' masks differed."""
    from unet.infer.tiles import gaussian_weights

    ckpt = {"in_channels": 1, "mode": "native", "scale": 1.0, "model_config": {"depth": 2},
            "train_settings": {"patch": {"size": [32, 24]}}}
    window = input_note(ckpt)["window"]
    assert "(side - 1) / 2" in window and "bottom or right" in window, window
    axes = [np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / (n / 8)) ** 2) for n in (24, 32)]
    said = np.outer(*axes)
    np.testing.assert_allclose(gaussian_weights(24, 32).numpy(), said / said.max(), rtol=1e-6)


def _tied_model(tmp_path, lo: float, hi: float, mode: str = "resize"):
    """A 1-channel resized model whose two classes tie on the median pixel of a test image:
    its masks turn on the smallest change of input, so a recipe that is off shows."""
    import torch

    from unet.model import checkpoint
    from unet.model.unet import UNet, UNetConfig

    torch.manual_seed(0)
    config = UNetConfig(in_channels=1, num_classes=2, depth=2, base_width=4)
    net = UNet(config).eval()
    with torch.no_grad():
        gap = net(torch.rand(1, 1, 32, 48)).diff(dim=1).median()
        net.head.bias[1] -= gap
    meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 1, "num_classes": 2,
            "intensity_range": [lo, hi], "mode": mode}
    record = checkpoint.model_record(config.to_dict(), net.state_dict(), meta, {}, 1, None,
                                     [0.5, 0.5], "h")
    checkpoint.save(tmp_path / "m.pt", record)
    return tmp_path / "m.pt"


def test_the_notes_recipe_gives_unet_predicts_mask_of_a_16_bit_image(tmp_path):
    """A deployer's numpy steps, as `input` words them, over a 16-bit TIFF whose values fall
    on half steps: clip, scale, round, resize each 8-bit plane, run, logits back, float16;
    with floored steps in place of rounded ones the mask differs."""
    import tifffile
    import torch
    import torch.nn.functional as F
    from PIL import Image

    from tests.test_export import _session
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files
    from unet.model.export import export_onnx

    export_onnx(_tied_model(tmp_path, 0.0, 510.0), tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    image = np.random.default_rng(1).integers(0, 600, (50, 71), np.uint16)
    tifffile.imwrite(tmp_path / "new.tif", image)
    predict_files([tmp_path / "m.pt"], [tmp_path / "new.tif"], tmp_path / "out",
                  PredictSettings(device="cpu"))
    expected = np.asarray(Image.open(tmp_path / "out/new.png"))
    lo, hi = meta["intensity_range"]
    masks = []
    for steps in (np.round, np.floor):
        plane = steps(np.clip((image - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
        small = Image.fromarray(plane).resize(tuple(meta["size"]), Image.Resampling.BILINEAR,
                                              reducing_gap=2.0)
        (logits,) = session.run(None, {"image": np.asarray(small, np.float32)[None, None] / 255})
        back = F.interpolate(torch.from_numpy(logits), size=image.shape, mode="bilinear",
                             align_corners=False)[0].softmax(0).half().numpy()
        masks.append(np.array(meta["class_values"])[back.argmax(0)])
    np.testing.assert_array_equal(masks[0], expected)
    assert (masks[1] != expected).sum() > 0  # the test can tell a recipe that is off


def test_a_native_models_note_says_its_masks_are_the_float16_softmaxs_argmax(tmp_path):
    """A model at each image's own size (native, scale 1, no window) is given its masks by the
    float16 softmax too, yet its `size` said only "at its own size": the logits' argmax a
    deployer then takes differs from unet predict's mask where two classes tie in float16."""
    import torch
    from PIL import Image

    from tests.test_export import _session
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files
    from unet.model.export import export_onnx

    export_onnx(_tied_model(tmp_path, 0.0, 255.0, "native"), tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    assert "float16" in meta["input"]["size"], meta["input"]["size"]
    image = np.random.default_rng(2).integers(0, 256, (32, 48), np.uint8)
    Image.fromarray(image).save(tmp_path / "new.png")
    predict_files([tmp_path / "m.pt"], [tmp_path / "new.png"], tmp_path / "out",
                  PredictSettings(device="cpu"))
    expected = np.asarray(Image.open(tmp_path / "out/new.png"))
    (logits,) = session.run(None, {"image": image[None, None].astype(np.float32) / 255})
    probs = torch.from_numpy(logits)[0].softmax(0).half().numpy()
    values = np.array(meta["class_values"])
    np.testing.assert_array_equal(values[probs.argmax(0)], expected)
    assert (values[logits[0].argmax(0)] != expected).sum() > 0  # the logits' argmax is off
