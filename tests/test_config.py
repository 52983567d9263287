"""Config checks beyond the schema, and per-experiment settings."""

import pytest
import yaml

from tests.conftest import REPO
from unet.workflow import ConfigError, check_config, experiment_config, experiment_section


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_default_config_passes(config):
    check_config(config)


def test_experiment_overrides_merge_deeply(config):
    config["experiments"] = {"wide": {"model": {"base_width": 32}}}
    model = experiment_section(config, "model", "wide")
    assert model["base_width"] == 32 and model["depth"] == config["model"]["depth"]
    assert experiment_config(config, "wide")["model"]["base_width"] == 32
    assert config["model"]["base_width"] != 32  # the base is not modified


@pytest.mark.parametrize(("change", "key"), [
    (lambda c: c["experiments"].update({"bad name": {}}), "experiments.bad name"),
    (lambda c: c["experiments"].update({"x": {"split": {}}}), "experiments.x.split"),
    (lambda c: c["experiments"].update({"cache": {}}), "experiments.cache"),
    (lambda c: c["split"].update(val_fraction=0.6, test_fraction=0.5), "split.val_fraction"),
    (lambda c: c["dataset"].update({"source": "local"}), "dataset.local.path"),
])
def test_errors_name_the_key(config, change, key):
    change(config)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_config(config)
