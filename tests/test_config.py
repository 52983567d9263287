"""Config checks beyond the schema, and per-experiment settings."""

import ast
import json
import re

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.io import regex_from_filepattern
from snakemake.utils import validate

from tests.conftest import REPO, TINY, copy_workflow, snakemake
from unet.config.experiments import (
    NAME,
    ConfigError,
    check_config,
    experiment_config,
    experiment_section,
)


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
    (lambda c: c["preprocess"].update(mode="native"), "train.patch.size"),
    (lambda c: c["experiments"].update({"enc": {"model": {"arch": "smp", "depth": 2}}}),
     "experiments.enc: model.depth"),
    (lambda c: c["train"].update(patch={"size": [64, 64]}, augment={"crop": [32, 32]}),
     "train.augment.crop"),
    # torch's RandomResizedCrop failed at the first step, naming no key
    (lambda c: c["train"]["augment"].update(scale=[1.0, 0.5]), "train.augment.scale"),
    # every loss 0/0: NaN losses every epoch, and a useless model.pt
    (lambda c: c["train"].update(class_weights=[0, 0]), "train.class_weights"),
    # resize mode sizes every image by width and height: the scale was dropped without a word
    (lambda c: c["preprocess"].update(mode="resize", scale=0.5), "preprocess.scale"),
    # refused only when a CRF step met an image larger than the tile, after training
    (lambda c: c["experiments"].update({"t": {"crf": {"tile": 64, "tile_overlap": 32}}}),
     "experiments.t: crf.tile 64"),
    # its own model.pt as the start: Snakemake deleted the model to retrain it, then failed
    (lambda c: c["train"].update(init_from="results/synthetic/baseline/model.pt"),
     "train.init_from"),
    (lambda c: c["experiments"].update({"ft": {"train": {
        "init_from": "./results/synthetic/ft/folds/0/model.pt"}}}), "experiments.ft: train"),
])
def test_errors_name_the_key(config, change, key):
    change(config)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_config(config)


# --- names that become folders: resources/<dataset.name>/, results/<name>/<experiment>/ ---------

UNSAFE_NAMES = ["../x", "a/b", "..", ".", "", "a b"]
SAFE_NAMES = ["v1.2", "my_data-3", ".hidden", "..x"]


def _with_names(config: dict, dataset: str = "synthetic", experiment: str = "baseline") -> dict:
    config["dataset"]["name"] = dataset
    config["experiments"] = {experiment: {}}
    return config


def _schema_errors(config: dict) -> str:
    """Snakemake's validate on config/schema.yaml: the error text, or '' when the config passes."""
    try:
        validate(config, str(REPO / "config/schema.yaml"))
    except WorkflowError as e:
        return str(e)
    return ""


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_check_config_refuses_unsafe_names(config, name):
    with pytest.raises(ConfigError, match=r"dataset\.name"):
        check_config(_with_names(config, dataset=name))
    with pytest.raises(ConfigError, match=r"experiments\."):
        check_config(_with_names(config, experiment=name))


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_check_config_accepts_safe_names(config, name):
    check_config(_with_names(config, dataset=name, experiment=name))


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_schema_refuses_unsafe_names(config, name):
    # The schema runs first (Snakefile), so it must refuse them too, naming the key.
    errors = _schema_errors(_with_names(config, dataset=name))
    assert "'dataset'" in errors and "'name'" in errors
    errors = _schema_errors(_with_names(config, experiment=name))
    assert "'experiments'" in errors and "propertyNames" in errors


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_schema_accepts_safe_names(config, name):
    assert _schema_errors(_with_names(config, dataset=name, experiment=name)) == ""


def test_folder_wildcard_refuses_dot_folders():
    # predict_folder reads resources/predict/{folder}: `..` would read resources/ itself.
    block = (REPO / "rules/common.smk").read_text().split("wildcard_constraints:")[1]
    constraint = ast.literal_eval(re.search(r'^\s+folder=(r?".*"),$', block, re.M).group(1))
    assert constraint == NAME.pattern  # the same rule as check_config and the schema
    output = regex_from_filepattern(f"results/d/e/predict/{{folder,{constraint}}}")
    for name in ("..", ".", "a/b"):
        assert not re.match(output, f"results/d/e/predict/{name}"), name
    for name in SAFE_NAMES:
        assert re.match(output, f"results/d/e/predict/{name}"), name


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"dataset": {"name": "../x"}}, "ConfigError: dataset.name: '../x' does not match"),
        ({"dataset": {"name": "."}}, "ConfigError: dataset.name: '.' does not match"),
        ({"experiments": {"a/b": {}}}, "ConfigError: experiments: 'a/b' does not match"),
        ({"experiments": {"..": {}}}, "ConfigError: experiments: '..' does not match"),
    ],
)
def test_unsafe_names_fail_before_any_job(tmp_path, override, key):
    # The schema (validated first in the Snakefile) refuses them, naming the key.
    wd = copy_workflow(tmp_path)
    (wd / "bad.yaml").write_text(json.dumps(override))
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, "bad.yaml", check=False)
    assert out.returncode != 0
    assert key in out.stdout + out.stderr
    assert not (wd / "results").exists() and not (wd / "resources").exists()


@pytest.mark.workflow
def test_dotted_names_plan(tmp_path):
    wd = copy_workflow(tmp_path)
    names = {"dataset": {"name": "v1.2"}, "experiments": {"my_data-3": {}}}
    (wd / "ok.yaml").write_text(json.dumps(names))
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, "ok.yaml", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "results/v1.2/my_data-3/" in out.stdout


def test_a_crf_grid_set_elsewhere_replaces_the_default_grid():
    """tiny.yaml's grid {bilateral_srgb: [5, 13]} was deep-merged into config.yaml's full
    grid: 18 settings were scored, not the 2 asked for (the schema says settings not listed
    keep their value). Nor may an experiment's grid be merged into the default one."""
    from snakemake.utils import update_config

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / TINY).read_text()))
    validate(config, str(REPO / "config/schema.yaml"))
    assert config["crf"]["tune"]["grid"] == {"bilateral_srgb": [5, 13]}
    bare = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(bare, str(REPO / "config/schema.yaml"))  # the default grid, from the schema
    assert set(bare["crf"]["tune"]["grid"]) == {"bilateral_sxy", "bilateral_srgb",
                                                 "bilateral_compat"}
    bare["experiments"] = {"small": {"crf": {"tune": {"grid": {"bilateral_sxy": [30]}}}}}
    assert experiment_section(bare, "crf", "small")["tune"]["grid"] == {"bilateral_sxy": [30]}


def test_file_extensions_need_their_dot(config):
    """mask_extensions: [jpg] was taken, matched nothing, and the pairing error then said to
    add .jpg there: where it already was, as the user saw it."""
    config["dataset"]["local"] = {"path": "data", "mask_extensions": ["jpg"]}
    assert "jpg" in _schema_errors(config) and "'^\\\\.'" in _schema_errors(config)
    config["dataset"]["local"]["mask_extensions"] = [".jpg"]
    assert _schema_errors(config) == ""
