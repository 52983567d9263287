"""An unset dataset.name is derived from the source: config/config.yaml named every run
synthetic, so a user's config with source local, url or kaggle and no name was refused at
planning (a runner scripted against earlier versions stopped); now it is named after its folder,
first archive or competition, and only a name of synthetic set by hand is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from snakemake.utils import validate

from tests.conftest import REPO, SCHEMA_PATH, TINY, copy_workflow, snakemake
from unet.config.experiments import check_config, normalise_config
from unet.config.names import name_dataset


def _unnamed(config: dict, tmp: Path, source: str) -> None:
    """`config` reading `source`'s data, with dataset.name unset as in config/config.yaml."""
    config["dataset"].update(name=None, source=source)
    if source == "local":
        (tmp / "isbi2012 membrane").mkdir()
        config["dataset"]["local"]["path"] = str(tmp / "isbi2012 membrane")
    elif source == "url":
        config["dataset"]["url"] = {"archives": [{"url": "https://host/dl/kvasir-seg.zip"}]}
    else:
        config["dataset"]["kaggle"] = {"competition": "carvana-image-masking-challenge"}


@pytest.mark.parametrize(("source", "name", "key"), [
    ("local", "isbi2012-membrane", "dataset.local.path"),
    ("url", "kvasir-seg", "dataset.url.archives"),
    ("kaggle", "carvana-image-masking-challenge", "dataset.kaggle.competition"),
])
def test_an_unset_name_is_the_sources(config, tmp_path, source, name, key):
    _unnamed(config, tmp_path, source)
    said = name_dataset(config)
    assert config["dataset"]["name"] == name
    assert said == (f"dataset.name not set: results/{name}/ (from {key}); set dataset.name to "
                    "choose")
    check_config(config)  # no refusal: the name is the data's own


def test_a_name_set_by_hand_is_kept(config, tmp_path):
    _unnamed(config, tmp_path, "local")
    config["dataset"]["name"] = "mine"
    assert name_dataset(config) is None and config["dataset"]["name"] == "mine"


def test_a_folder_named_after_a_shared_one_is_not_refused(config, tmp_path):
    """A folder named predict gave resources/predict/, among predict_folder's images."""
    (tmp_path / "predict").mkdir()
    config["dataset"].update(name=None, source="local", local={"path": str(tmp_path / "predict")})
    name_dataset(config)
    assert config["dataset"]["name"] == "predict-data"
    check_config(config)


def _default_run(**dataset) -> dict:
    """config/config.yaml as the Snakefile sees it, `dataset` keys set over it."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["dataset"].update(dataset)
    validate(config, str(SCHEMA_PATH))
    name_dataset(config)
    normalise_config(config)
    return config


def test_the_default_run_keeps_its_name_and_params():
    """Every rule's params come from this config: as written with name: synthetic (the
    earlier default run's), in order too, nothing reruns."""
    derived = _default_run()
    assert derived["dataset"]["name"] == "synthetic"
    assert json.dumps(derived) == json.dumps(_default_run(name="synthetic"))


def _local(wd: Path, name: str = "") -> None:
    data = wd / "my scans"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
        (data / sub / "a.png").write_bytes(b"")  # planning reads no pixels
    named = f"name: {name}, " if name else ""
    (wd / "local.yaml").write_text(
        f"dataset: {{{named}source: local, local: {{path: '{data}'}}}}\n")


@pytest.mark.workflow
def test_a_local_config_without_a_name_plans_into_its_folders(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    _local(wd)
    out = snakemake(wd, "-n", "--configfile", TINY, "local.yaml")
    assert "results/my-scans/split.json" in out.stdout
    assert ("dataset.name not set: results/my-scans/ (from dataset.local.path); set "
            "dataset.name to choose") in out.stderr
    assert "results/synthetic" not in out.stdout
    plain = snakemake(wd, "-n", "--configfile", TINY)  # the built-in run: as before, silent
    assert "results/synthetic/split.json" in plain.stdout
    assert "dataset.name not set" not in plain.stderr


@pytest.mark.workflow
def test_synthetic_set_by_hand_with_a_local_source_is_still_refused(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    _local(wd, "Synthetic")
    out = snakemake(wd, "-n", "--configfile", TINY, "local.yaml", check=False)
    assert out.returncode != 0
    assert "ConfigError: dataset.name Synthetic is the built-in data set's" in out.stderr
    assert "dataset.name: my-scans" in out.stderr


def _pairs(data: Path) -> None:
    """Four readable 72x48 image and mask pairs in `data`'s images/ and masks/, over _local's
    empty one."""
    mask = np.zeros((48, 72), np.uint8)
    mask[10:30, 20:50] = 255
    for i, stem in enumerate(("a", "b", "c", "d")):
        image = np.full((48, 72, 3), 40 * i, np.uint8)
        Image.fromarray(image).save(data / "images" / f"{stem}.png")
        Image.fromarray(mask).save(data / "masks" / f"{stem}.png")


@pytest.mark.workflow
def test_the_derived_name_is_said_by_the_main_run_only(tmp_path):
    """Each job's own snakemake (--mode remote, as a SLURM job runs it; subprocess for a
    spawned job) reads the Snakefile again: the line was printed in every job's log too."""
    wd = copy_workflow(tmp_path / "wf")
    _local(wd)
    _pairs(wd / "my scans")
    split = "results/my-scans/split.json"
    line = "dataset.name not set: results/my-scans/"
    main = snakemake(wd, "--cores", "1", "--configfile", TINY, "local.yaml", "--", split)
    assert main.stderr.count(line) == 1
    job = snakemake(wd, "--mode", "remote", "--cores", "1", "--configfile", TINY, "local.yaml",
                    "--forcerun", "split_dataset", "--", split)
    assert "split_dataset" in job.stderr and line not in job.stderr


@pytest.mark.workflow
def test_a_folder_under_source_synthetic_needs_only_the_source(tmp_path):
    """With dataset.name unset, the refusal said to set dataset.name too: source local alone
    names the data set after its folder."""
    wd = copy_workflow(tmp_path / "wf")
    _local(wd)
    text = (wd / "local.yaml").read_text().replace("source: local, ", "")
    (wd / "local.yaml").write_text(text)
    out = snakemake(wd, "-n", "--configfile", TINY, "local.yaml", check=False)
    assert out.returncode != 0
    assert "synthetic (the default)" in out.stderr
    assert "set dataset.source: local to use it" in out.stderr
