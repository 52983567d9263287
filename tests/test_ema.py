"""train.ema: the weights' moving average is what is validated, saved and resumed."""

from __future__ import annotations

import torch
import yaml

from tests.conftest import REPO
from tests.test_config import _schema_errors
from tests.test_train import (
    MODEL,
    _settings,
    _train,
    cache,  # noqa: F401  (the module's fixture)
)
from unet.model import checkpoint
from unet.model.describe import describe_model
from unet.model.unet import UNetConfig
from unet.train.dataset import CachedSplit
from unet.train.loop import _step, build_run


def _floats(state: dict) -> dict:
    return {k: v for k, v in state.items() if v.is_floating_point()}


def test_average_follows_each_step_weights_and_batchnorm(cache):  # noqa: F811
    decay = 0.8
    settings = _settings(ema=decay)
    data = CachedSplit(cache, "train")
    run = build_run(settings, UNetConfig(3, 2, **MODEL), data, CachedSplit(cache, "val"))
    expected = None
    for i in range(3):
        images, masks = zip(*(data[k] for k in (2 * i, 2 * i + 1)), strict=True)
        run.model.train()
        _step(run, torch.stack(images), torch.stack(masks))
        now = {k: v.detach().clone() for k, v in _floats(run.model.state_dict()).items()}
        if expected is None:
            expected = now  # the first update copies the weights
        else:
            expected = {k: decay * expected[k] + (1 - decay) * now[k] for k in now}
    got = _floats(run.eval_model.state_dict())
    assert got.keys() == expected.keys()
    assert any("running_mean" in k for k in got), "BatchNorm statistics are averaged too"
    for k in got:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-6, msg=k)
    assert not torch.equal(got["inc.0.weight"], run.model.state_dict()["inc.0.weight"])


def test_model_file_holds_the_average_not_the_last_weights(cache, tmp_path):  # noqa: F811
    best = _train(cache, tmp_path, epochs=1, ema=0.5)
    last = checkpoint.load(tmp_path / "ck" / "last.pt")
    averaged = {k.removeprefix("module."): v for k, v in last["ema"].items()}
    for k, v in best["state_dict"].items():
        assert torch.equal(v, averaged[k]), k
    raw = last["state_dict"]
    assert any(not torch.equal(v, raw[k]) for k, v in best["state_dict"].items())
    assert "moving average of the training weights (decay 0.5)" in describe_model(
        tmp_path / "model.pt"
    )


def test_resumed_run_gives_the_unbroken_runs_average(cache, tmp_path):  # noqa: F811
    unbroken = _train(cache, tmp_path / "a", ema=0.7)
    # A budget that ends the run after epoch 1 leaves last.pt as a killed job would.
    _train(cache, tmp_path / "b", ema=0.7, max_minutes=1e-9)
    assert checkpoint.load(tmp_path / "b" / "ck" / "last.pt")["state"]["epoch"] == 1
    resumed = _train(cache, tmp_path / "b", ema=0.7)
    assert resumed["epoch"] == unbroken["epoch"]
    for k, v in unbroken["state_dict"].items():
        assert torch.equal(v, resumed["state_dict"][k]), k
    # The average after the last epoch too (best.pt may be epoch 1's, saved before the stop).
    a, b = (checkpoint.load(tmp_path / d / "ck" / "last.pt")["ema"] for d in "ab")
    for k, v in a.items():
        assert torch.equal(v, b[k]), k


def test_decay_of_one_is_refused_by_the_schema():
    # A decay of 1 would never leave the first step's weights; validate names the key.
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert _schema_errors(config) == ""
    config["train"]["ema"] = 1
    assert "ema" in _schema_errors(config)
