"""A config whose masks.names or train.class_weights do not match the classes masks.values (or
masks.colors) lists is refused when it is read, naming both keys: the names were refused only
by preprocess, after download and split, with a traceback, and after Snakemake had deleted the
cache that preprocess was to rewrite; the weights only at training's first step."""

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO
from unet.config.experiments import ConfigError, check_config
from unet.config.names import name_dataset

VOC = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
       "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
       "sheep", "sofa", "train", "tvmonitor"]


@pytest.fixture
def config():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["masks"] = {"values": list(range(21)), "ignore": 255, "names": VOC}
    validate(config, str(REPO / "config/schema.yaml"))
    name_dataset(config)  # as the Snakefile: dataset.name unset, synthetic
    return config


def test_as_many_names_as_values_pass(config):
    check_config(config)
    config["masks"]["colors"], config["masks"]["values"] = [[c, c, c] for c in range(21)], None
    check_config(config)


@pytest.mark.parametrize("names", [VOC[1:], [*VOC, "void"]])
def test_names_and_values_of_different_lengths_are_refused(config, names):
    config["masks"]["names"] = names
    with pytest.raises(ConfigError) as err:
        check_config(config)
    message = str(err.value)
    assert f"masks.names lists {len(names)} names" in message
    assert "masks.values lists 21 classes" in message


def test_names_and_colours_of_different_lengths_are_refused(config):
    config["masks"].update(values=None, colors=[[0, 0, 0], [128, 0, 0], [0, 128, 0]])
    refused = r"masks\.names lists 21 names, but masks\.colors lists 3"
    with pytest.raises(ConfigError, match=refused):
        check_config(config)


def test_detected_values_are_checked_by_preprocess(config):
    config["masks"]["values"] = None  # the count is known only once the masks are read
    check_config(config)


def test_class_weights_of_another_length_are_refused(config):
    config["train"]["class_weights"] = [0.5, 2.0]
    refused = r"train\.class_weights has 2 weights, but masks\.values lists 21"
    with pytest.raises(ConfigError, match=refused):
        check_config(config)
    config["train"]["class_weights"] = [1.0] * 21
    check_config(config)
    config["experiments"]["heavy"] = {"train": {"class_weights": [1.0, 5.0]}}
    with pytest.raises(ConfigError, match=r"experiments\.heavy: train\.class_weights has 2"):
        check_config(config)
