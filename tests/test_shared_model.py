"""Experiments whose training is the same share one trained model: an experiment that differs
only in prediction, CRF or a key that does not apply predicts with the first one's model."""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO
from tests.test_rerun import planned
from unet.config.experiments import model_owner


@pytest.fixture
def config():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["experiments"] = {"baseline": {}}
    validate(config, str(REPO / "config/schema.yaml"))
    return config


def test_the_first_experiment_by_name_with_the_same_training_owns_the_model(config):
    config["experiments"] = {
        "base": {},
        "tta": {"predict": {"tta": True}, "crf": {"iterations": 3}},
        "sgd": {"train": {"optimizer": "sgd"}},
        "sgd_m": {"train": {"optimizer": "sgd", "momentum": 0.9, "num_workers": 2}},
        "m_adam": {"train": {"momentum": 0.5}},  # momentum: not adamw's
        "wide": {"model": {"base_width": 32}},
    }
    owners = {e: model_owner(config, e) for e in config["experiments"]}
    assert owners == {"base": "base", "tta": "base", "sgd": "sgd", "sgd_m": "sgd",
                      "m_adam": "base", "wide": "wide"}
    # by name: the files' order (normalise_config sorts it) must not move the model
    config["experiments"] = {"tta": {"predict": {"tta": True}}, "base": {}}
    assert model_owner(config, "tta") == "base"
    changed = copy.deepcopy(config)
    changed["train"]["epochs"] += 1
    assert model_owner(changed, "tta") == "base"


@pytest.mark.workflow
def test_an_experiment_differing_in_prediction_only_trains_nothing(tiny_run):
    # It trained a second model, the same as baseline's, before predicting with it.
    override = "experiments: {baseline: {}, tta: {predict: {tta: true}}}\n"
    assert planned(tiny_run, override) == {"predict_masks", "tune_crf", "refine_crf",
                                           "finalize_masks", "evaluate_masks",
                                           "compare_experiments", "plot_results"}
    override = "experiments: {baseline: {}, long: {train: {epochs: 3}}}\n"
    assert "train_unet" in planned(tiny_run, override)
