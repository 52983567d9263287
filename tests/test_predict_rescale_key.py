"""predict.rescale: predict_folder's new images at another pixel size than the training's, as
`unet predict --rescale` takes them (until 2026-12-07 the workflow had no key for it)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.test_config import _schema_errors
from tests.test_native_predict import _native
from unet.cli import main
from unet.common.applicable import applicable, tracked
from unet.common.schema import defaults
from unet.config.experiments import ConfigError, check_config
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_folder


def _settings(**over) -> PredictSettings:
    """The predict section as the predict_folder rule hands it to its script."""
    values = {**defaults("predict"), "device": "cpu", **over}
    return PredictSettings(**{k: v for k, v in values.items() if k not in ("roi", "recursive")})


def test_folder_masks_with_rescale_are_unet_predict_rescales(tmp_path):
    pairs, _ = _native(tmp_path, patch=(16, 16))
    folder = tmp_path / "new"
    folder.mkdir()
    for k in range(len(pairs)):
        shutil.copy(tmp_path / f"i{k}.png", folder)
    model = tmp_path / "model.pt"
    assert predict_folder([model], folder, tmp_path / "rule", _settings(rescale=0.5)) > 0
    predict_folder([model], folder, tmp_path / "one", _settings())
    assert main(["predict", str(model), str(folder), "-o", str(tmp_path / "cli"),
                 "--device", "cpu", "--rescale", "0.5"]) == 0
    differ = 0
    for k, pair in enumerate(pairs):
        rule = np.asarray(Image.open(tmp_path / "rule" / f"i{k}.png"))
        assert rule.shape == tuple(pair["size"][::-1])  # at the image's own size
        np.testing.assert_array_equal(rule, np.asarray(Image.open(tmp_path / "cli" / f"i{k}.png")))
        differ += int((rule != np.asarray(Image.open(tmp_path / "one" / f"i{k}.png"))).sum())
    assert differ  # the factor reached the model


def test_the_schema_takes_the_key_with_its_bounds(config):
    config["predict"]["rescale"] = 1.89  # HuBMAP's 0.7562 um slides under a 0.4 um model
    assert _schema_errors(config) == ""
    config["predict"]["rescale"] = 0
    assert "rescale" in _schema_errors(config)


def test_rescale_is_a_param_only_where_set():
    # at 1 no param: folders predicted before the key existed stay fresh
    assert "rescale" not in tracked("predict", applicable("predict", {**defaults("predict"),
                                                                      "rescale": 1}))
    got = tracked("predict", applicable("predict", {**defaults("predict"), "rescale": 0.5}))
    assert got["rescale"] == 0.5


def test_refused_under_mode_resize_as_the_cli_refuses_it(config):
    config["predict"]["rescale"] = 0.5  # mode resize: every image to one size
    with pytest.raises(ConfigError, match="^predict.rescale 0.5: .*preprocess.mode resize"):
        check_config(config)
    config["predict"]["rescale"] = 1
    config["experiments"]["hub"] = {"predict": {"rescale": 1.89}}
    with pytest.raises(ConfigError, match="^experiments.hub: predict.rescale 1.89"):
        check_config(config)
    config["experiments"].pop("hub")
    config["preprocess"].update(mode="native")
    config["train"]["patch"]["size"] = [64, 64]
    config["predict"]["rescale"] = 0.5
    check_config(config)  # a native-size model takes it
