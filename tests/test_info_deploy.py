"""`unet info` tells a deployer what the exported graph's user must do: the input's scale and
channel order, and the precision the masks were computed in."""

from __future__ import annotations

from unet.model.describe import describe_model


def test_info_names_the_input_scale_and_the_precision(cli_model):
    # It said "3 channel(s)" and "learnt 8-bit images", not that they enter as RGB / 255, nor
    # that unet predict autocasts on CUDA while the CPU and an ONNX export compute in float32.
    lines = {line[:10].strip(): line[11:] for line in describe_model(cli_model).splitlines()}
    assert "RGB" in lines["normalise"] and "/ 255" in lines["normalise"], lines
    said = lines["precision"]
    assert "float32" in said and "bf16" in said and "--no-amp" in said, said
    assert said.endswith("trained on the CPU in float32"), said  # the fixture's device: cpu
