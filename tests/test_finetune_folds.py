"""train.init_from in cross-validation: each fold starts from the source's model of the same
fold ({fold} in the path), never from one that trained on its validation images unwarned."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.conftest import TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError, check_config
from unet.model import checkpoint
from unet.model.describe import describe_model
from unet.train.finetune import fold_source
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

MODEL = {"depth": 2, "base_width": 4}


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    data = {"count": 15, "width": 48, "height": 32, "seed": 5}
    return synthetic_cache("ftf", data, (48, 32), folds=3)


def _train(cache: Path, out: Path, fold: int, **kw) -> dict:
    settings = TrainSettings(**{"batch_size": 2, "device": "cpu", "epochs": 1, **kw})
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", MODEL, settings,
               fold=fold)
    return checkpoint.load(out / "model.pt")


def test_fold_in_the_path_is_each_folds_own_model():
    source = "results/d/base/folds/{fold}/model.pt"
    assert fold_source(source, 2) == "results/d/base/folds/2/model.pt"
    assert fold_source("pretrained.pt", 1) == "pretrained.pt"
    with pytest.raises(ValueError, match=r"\{fold\}.*split.folds"):
        fold_source(source, None)


def test_each_fold_starts_from_its_own_and_another_folds_model_warns(cache, tmp_path, caplog):
    for k in (0, 1):
        _train(cache, tmp_path / "base" / str(k), k)
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path / "ft1", 1, init_from=str(tmp_path / "base" / "{fold}" / "model.pt"))
    assert f"starting from the weights of {tmp_path / 'base' / '1' / 'model.pt'}" in caplog.text
    leak = "trained on this fold's validation images"  # the warning (not the collapse note's)
    assert leak not in caplog.text
    # unet info showed the template (folds/{fold}/model.pt) beside this fold's source's digest
    info = describe_model(tmp_path / "ft1" / "model.pt")
    assert f"init_from {tmp_path / 'base' / '1' / 'model.pt'} sha256" in info, info
    caplog.clear()
    _train(cache, tmp_path / "ft0", 0, init_from=str(tmp_path / "base" / "1" / "model.pt"))
    assert "fold 1's model" in caplog.text and leak in caplog.text


def test_fold_in_init_from_is_checked_per_fold(tmp_path, monkeypatch):
    from tests.test_config_checks import _default_config

    monkeypatch.chdir(tmp_path)
    config = _default_config()
    config["split"]["folds"] = 3
    config["experiments"] = {"base": {}, "ft": {"train": {
        "init_from": "results/synthetic/base/folds/{fold}/model.pt"}}}
    check_config(config)  # the base experiment's folds, built by this workflow
    config["split"]["folds"] = 0
    with pytest.raises(ConfigError, match=r"train.init_from .*\{fold\}.*split.folds"):
        check_config(config)


def test_fold_in_init_from_plans_each_fold_after_its_source(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "cv.yaml").write_text(
        "split: {folds: 2}\nexperiments:\n  base: {}\n"
        "  ft: {train: {init_from: 'results/synthetic/base/folds/{fold}/model.pt'}}\n")
    args = ("--cores", "1", "--configfile", TINY, "cv.yaml", "-n")
    planned = snakemake(wd, "results/synthetic/ft/folds/1/model.pt", *args).stdout
    assert re.search(r"train_fold\s+2\n", planned)  # ft's fold 1 and base's fold 1 only
    assert "results/synthetic/base/folds/1/model.pt" in planned
    assert "base/folds/0" not in planned
