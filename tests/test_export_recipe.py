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

