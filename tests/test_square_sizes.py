"""A square size written as one number (`train.patch.size: 64`, as nnU-Net and MONAI users
write patches) is that many pixels a side: the same settings, and the same steps, as [64, 64].
Before, the schema refused it as "64 is not of type 'array', 'null'", with no fix."""

import copy

import pytest
from snakemake.utils import validate

from tests.conftest import SCHEMA, SCHEMA_PATH, TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError, check_config, normalise_config
from unet.config.names import name_dataset
from unet.config.schema import check_experiment_schemas, check_schema, coerce_numbers

SQUARE = {"patch": ("patch", "size"), "crop": ("augment", "crop")}


def _read(config: dict) -> dict:
    """`config` through what the Snakefile and rules/common.smk run on it."""
    coerce_numbers(config, SCHEMA)
    check_schema(config, SCHEMA)
    validate(config, str(SCHEMA_PATH))
    name_dataset(config)
    check_experiment_schemas(config, SCHEMA)
    normalise_config(config)
    check_config(config)
    return config


def _set(config: dict, key: str, value) -> None:
    section, name = SQUARE[key]
    config["train"].setdefault(section, {})[name] = value


@pytest.mark.parametrize("key", SQUARE)
@pytest.mark.parametrize("written", [64, "64"], ids=["yaml", "command-line"])
def test_one_number_reads_as_the_square_list(config, key, written):
    """In the base config and in an experiment's override alike, so the params Snakemake
    compares are the same for either spelling: switching spelling reruns nothing."""
    as_list, as_number = copy.deepcopy(config), copy.deepcopy(config)
    _set(as_list, key, [64, 64])
    _set(as_number, key, written)
    as_list["experiments"] = {"base": {}, "big": {"train": {"patch": {"size": [96, 96]}}}}
    as_number["experiments"] = {"base": {}, "big": {"train": {"patch": {"size": "96"}}}}
    if key == "crop":  # crop and patch both crop: an experiment keeps one
        as_list["experiments"]["big"]["train"]["augment"] = {"crop": None}
        as_number["experiments"]["big"]["train"]["augment"] = {"crop": None}
    assert _read(as_number) == _read(as_list)
    section, name = SQUARE[key]
    assert as_number["train"][section][name] == [64, 64]
    assert as_number["experiments"]["big"]["train"]["patch"]["size"] == [96, 96]


@pytest.mark.parametrize("key", SQUARE)
def test_a_number_below_the_least_side_is_refused_with_the_key(config, key):
    _set(config, key, 4)
    section, name = SQUARE[key]
    with pytest.raises(ConfigError, match=rf"^train\.{section}\.{name}: 4 is less than"):
        check_schema(config, SCHEMA)


@pytest.mark.workflow
def test_the_workflow_plans_a_patch_of_one_number(tmp_path):
    wd = copy_workflow(tmp_path)
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY,
                    "--config", "train={patch: {size: 32}}", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
