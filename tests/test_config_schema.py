"""The schema's checks as the Snakefile runs them: an experiment's overrides are validated as
the config it sees, and its errors name it."""

import json

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO, TINY, copy_workflow, snakemake
from unet.config_schema import check_experiment_schemas
from unet.workflow import ConfigError

SCHEMA_PATH = REPO / "config/schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


@pytest.fixture
def config():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(config, str(SCHEMA_PATH))
    return config


def test_an_overrides_schema_error_names_the_experiment_and_key(config):
    config["experiments"] = {"baseline": {}, "wide": {"model": {"base_width": "wide"}}}
    with pytest.raises(ConfigError) as err:
        check_experiment_schemas(config, SCHEMA)
    assert str(err.value).startswith("experiments.wide: model.base_width: 'wide' is not of type")
    config["experiments"]["wide"]["model"]["base_width"] = 32
    check_experiment_schemas(config, SCHEMA)


def test_an_unknown_key_in_an_override_is_named(config):
    config["experiments"] = {"t": {"train": {"augment": {"flop": True}}}}
    with pytest.raises(ConfigError, match=r"^experiments\.t: train\.augment: .*'flop'"):
        check_experiment_schemas(config, SCHEMA)


@pytest.mark.workflow
def test_the_workflow_names_the_experiment(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "bad.yaml").write_text(json.dumps({"experiments": {"wide": {"model": {
        "base_width": "wide"}}}}))
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, "bad.yaml", check=False)
    assert out.returncode != 0
    assert "experiments.wide: model.base_width" in out.stdout + out.stderr
