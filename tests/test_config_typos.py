"""Config mistakes refused when the config is read, each named with its fix: a mistyped key
in a data source's section, a key at the wrong level, a section of the wrong kind."""

from __future__ import annotations

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO
from unet.config_schema import check_schema
from unet.workflow import ConfigError

SCHEMA_PATH = REPO / "config/schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


@pytest.fixture
def config():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(config, str(SCHEMA_PATH))
    return config


@pytest.mark.parametrize(("source", "typo", "meant"), [
    ("local", "mask_sufix", "mask_suffix"),
    ("local", "pth", "path"),
    ("url", "archive", "archives"),
    ("kaggle", "competiton", "competition"),
])
def test_a_mistyped_key_of_a_data_source_names_the_key_it_is_closest_to(config, source, typo,
                                                                        meant):
    """dataset.local, url and kaggle take the layout's keys through a $ref: a typo there was
    refused as "Unevaluated properties are not allowed ('mask_sufix' was unexpected)", without
    the key meant, as every other section's typo is."""
    config["dataset"][source][typo] = "x"
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value) == (f"dataset.{source}: unknown key '{typo}'; "
                              f"did you mean '{meant}'?"), err.value


def test_a_key_unlike_any_of_a_data_source_lists_what_it_takes(config):
    config["dataset"]["local"]["zzz"] = 1
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    message = str(err.value)
    assert message.startswith("dataset.local: unknown key 'zzz'; dataset.local takes ")
    assert "mask_suffix" in message and "path" in message and "rle" in message


@pytest.mark.parametrize(("experiments", "message"), [
    (["baseline", "wide"], "experiments: ['baseline', 'wide'] is not of type 'object'"),
    ("baseline", "experiments: 'baseline' is not of type 'object'"),
    ({"wide": [{"model": {"base_width": 32}}]},
     "experiments.wide: [{'model': {'base_width': 32}}] is not of type 'object', 'null'"),
])
def test_experiments_of_the_wrong_kind_are_refused_not_a_traceback(config, experiments,
                                                                   message):
    """`experiments: [baseline, wide]` (a list, not a mapping) stopped the Snakefile with
    AttributeError: 'list' object has no attribute 'values', in coerce_numbers, before the
    schema could name the key."""
    from unet.config_schema import coerce_numbers

    config["experiments"] = experiments
    coerce_numbers(config, SCHEMA)
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value) == message, err.value
