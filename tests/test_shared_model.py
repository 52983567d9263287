"""Experiments whose training is the same share one trained model: an experiment that differs
only in prediction, CRF or a key that does not apply predicts with the first one's model."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO, TINY, snakemake
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
    # one that has its model already keeps it: an experiment added later and named first,
    # who trains the same way, predicts with it
    config["experiments"] = {"a_tta": {"predict": {"tta": True}}, "base": {}}
    assert model_owner(config, "base") == "a_tta"  # neither trained: the first by name
    assert model_owner(config, "a_tta", trained=("base",)) == "base"


@pytest.mark.workflow
def test_an_experiment_differing_in_prediction_only_trains_nothing(tiny_run):
    # It trained a second model, the same as baseline's, before predicting with it.
    override = "experiments: {baseline: {}, tta: {predict: {tta: true}}}\n"
    assert planned(tiny_run, override) == {"predict_masks", "tune_crf", "refine_crf",
                                           "finalize_masks", "evaluate_masks",
                                           "compare_experiments", "plot_results"}
    override = "experiments: {baseline: {}, long: {train: {epochs: 3}}}\n"
    assert "train_unet" in planned(tiny_run, override)


@pytest.mark.workflow
def test_an_added_experiment_named_first_does_not_take_over_the_model(tiny_run):
    # a_tta sorts before baseline and trains the same way: it became the owner, so a second,
    # identical model was trained under a_tta/ and every baseline step reran with it.
    (tiny_run / "override.yaml").write_text(
        "experiments: {baseline: {}, a_tta: {predict: {tta: true}}}\n")
    out = snakemake(tiny_run, "--cores", "2", "--configfile", TINY, "override.yaml", "-n",
                    "--quiet", "rules").stdout
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    assert "train_unet" not in jobs
    assert jobs["predict_masks"] == "2"  # a_tta's val and test only
    assert jobs["plot_results"] == jobs["evaluate_masks"] == "1"
