"""`unet predict`'s precision on CUDA: autocast by default (as predict.amp), float32 on request,
as the CPU and the ONNX graph compute."""

from __future__ import annotations

import json

from tests.test_cli import _new_images
from unet.cli import main
from unet.infer.resume import RECORD


def test_no_amp_predicts_in_float32_and_is_recorded(cli_model, tmp_path, monkeypatch):
    # On a GPU `unet predict` ran in bf16 (fp16 before compute capability 8.0) with no way to
    # turn it off: its masks then differed from the float32 ONNX graph's (and the CPU's) at
    # 274 of 363,154 pixels of eight images (bf16 on the CPU standing in), and a deployer
    # checking an export against it could not get the masks the README says agree.
    import unet.infer.forward as forward

    asked = []
    real = forward.amp_dtype
    monkeypatch.setattr(forward, "amp_dtype", lambda d, on, cpu=False: asked.append((on, cpu))
                        or real(d, on, cpu))
    folder, out = _new_images(tmp_path / "new"), tmp_path / "out"
    assert main(["predict", str(cli_model), str(folder), "-o", str(out), "--no-amp",
                 "--device", "cpu"]) == 0
    assert asked and all(a == (False, False) for a in asked), asked
    head = json.loads((out / RECORD).read_text().splitlines()[0])
    assert head["settings"]["amp"] is False, head
    asked.clear()
    assert main(["predict", str(cli_model), str(folder), "-o", str(tmp_path / "b"),
                 "--device", "cpu"]) == 0
    assert asked and all(a == (True, False) for a in asked), asked  # the default, as before
