"""unet predict --rescale: new images at another pixel size than the training images'."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.test_native_predict import _native
from unet.cli import main
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_files
from unet.infer.rescale import rescaled
from unet.infer.resume import mask_settings
from unet.model import checkpoint


def _as_scale(src, dst, scale: float) -> None:
    """`src`'s model saved as `dst`, its record saying its cache was at `scale`."""
    record = torch.load(src, map_location="cpu", weights_only=False)
    checkpoint.save(dst, {**record, "scale": scale})


def _mask(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_rescale_predicts_as_a_model_of_that_scale_at_the_images_own_size(tmp_path):
    pairs, _ = _native(tmp_path, scale=0.5, patch=(16, 16))  # model.pt: cached at 0.5
    _as_scale(tmp_path / "model.pt", tmp_path / "full.pt", 1.0)  # same weights, at scale 1
    files = [tmp_path / f"i{k}.png" for k in range(len(pairs))]
    half = PredictSettings(batch_size=4, device="cpu")
    predict_files([tmp_path / "model.pt"], files, tmp_path / "half", half)
    predict_files([tmp_path / "full.pt"], files, tmp_path / "re",
                  PredictSettings(batch_size=4, device="cpu", rescale=0.5))
    predict_files([tmp_path / "full.pt"], files, tmp_path / "one", half)
    differ = 0
    for pair, file in zip(pairs, files, strict=True):
        w, h = pair["size"]
        re, one = _mask(tmp_path / "re" / file.name), _mask(tmp_path / "one" / file.name)
        assert re.shape == (h, w)  # the mask at the image's own size
        np.testing.assert_array_equal(re, _mask(tmp_path / "half" / file.name))
        differ += int((re != one).sum())
    assert differ  # the factor reached the model: not the masks at its own scale


def test_rescale_is_recorded_and_refused_where_it_cannot_apply(tmp_path, capsys):
    _native(tmp_path, patch=(16, 16))
    image = str(tmp_path / "i0.png")
    assert main(["predict", str(tmp_path / "model.pt"), image, "-o", str(tmp_path / "o")]) == 0
    # another factor into the same folder is another setting: refused, as --tta is
    assert main(["predict", str(tmp_path / "model.pt"), image, "-o", str(tmp_path / "o"),
                 "--rescale", "0.5"]) == 2
    assert "rescale" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "model.pt"), image, "-o", str(tmp_path), "--rescale", "0"])
    with pytest.raises(ValueError, match="--rescale 0.5: .*preprocess.mode resize"):
        rescaled({"mode": "resize", "size": [64, 48], "scale": 1.0}, 0.5)
    assert rescaled({"mode": "native", "scale": 0.5}, 1.89)["scale"] == pytest.approx(0.945)
    # the records of folders predicted before --rescale hold no such key: they still match
    assert "rescale" not in mask_settings(PredictSettings(), None)
