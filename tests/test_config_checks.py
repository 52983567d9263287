"""Config checks beyond the schema (check_config), by topic: files the config names, split,
training and experiment names."""

import json

import pytest
import yaml
from snakemake.utils import update_config, validate

from tests.conftest import REPO, TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError, check_config
from unet.config.names import name_dataset

SCHEMA = str(REPO / "config/schema.yaml")


def _default_config() -> dict:
    """config/config.yaml with the schema's defaults filled in, as the Snakefile sees it."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(config, SCHEMA)
    name_dataset(config)  # as the Snakefile: dataset.name unset, synthetic
    return config


@pytest.fixture
def config():
    return _default_config()


def _refused(config: dict, match: str) -> str:
    with pytest.raises(ConfigError, match=match) as err:
        check_config(config)
    return str(err.value)


# --- files the config names: a missing one was ignored once outputs existed -------------------

def test_missing_init_from_is_refused(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config["train"]["init_from"] = "pretrained.pt"
    assert "no file" in _refused(config, r"train\.init_from pretrained\.pt")
    (tmp_path / "pretrained.pt").write_bytes(b"")
    check_config(config)


@pytest.mark.parametrize("folds", [0, 3])
def test_init_from_another_experiments_model_is_accepted(config, tmp_path, monkeypatch, folds):
    monkeypatch.chdir(tmp_path)
    config["split"]["folds"] = folds
    model = "folds/2/model.pt" if folds else "model.pt"
    config["experiments"] = {"base": {}, "ft": {"train": {
        "init_from": f"results/synthetic/base/{model}"}}}
    check_config(config)
    config["experiments"]["ft"]["train"]["init_from"] = f"results/synthetic/none/{model}"
    _refused(config, r"experiments\.ft: train\.init_from")


@pytest.mark.parametrize("key", ["test_ids", "val_ids", "exclude_ids"])
def test_id_list_file_that_does_not_exist_is_refused(config, tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    config["split"][key] = "img_07"
    text = _refused(config, rf"split\.{key} 'img_07' names no file")
    assert "[img_07]" in text
    config["split"][key] = "lists/val.txt"
    assert "[lists/val.txt]" not in _refused(config, rf"split\.{key}")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists/val.txt").write_text("img_07\n")
    check_config(config)


# --- experiments: the default baseline comes from the schema, not config/config.yaml ----------

def test_a_users_experiments_replace_the_default_baseline():
    """Snakemake deep-merges config files: config.yaml's `baseline: {}` was trained beside a
    user's experiments and could not be removed."""
    assert "experiments" not in yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert _default_config()["experiments"] == {"baseline": {}}
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(config, {"experiments": {"wide": {"model": {"base_width": 32}}}})
    validate(config, SCHEMA)
    assert list(config["experiments"]) == ["wide"]


@pytest.mark.workflow
def test_only_the_users_experiments_are_planned(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "wide.yaml").write_text(json.dumps({"experiments": {"wide": {}}}))
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, "wide.yaml", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "results/synthetic/wide/" in out.stdout
    assert "results/synthetic/baseline/" not in out.stdout


# --- training ----------------------------------------------------------------------------------

@pytest.mark.parametrize("warmup", [13, 20])
def test_warmup_longer_than_training_is_refused(config, warmup):
    """The lr never reached train.lr, nor decayed: silently another schedule."""
    config["train"]["warmup_epochs"] = warmup
    text = _refused(config, r"train\.warmup_epochs")
    assert "train.epochs 12" in text
    config["train"]["warmup_epochs"] = 12  # reaches train.lr at the last step: a quick run's
    check_config(config)
    config["experiments"] = {"short": {"train": {"epochs": 1, "warmup_epochs": 1}},
                             "long": {"train": {"epochs": 2, "warmup_epochs": 3}}}
    _refused(config, r"experiments\.long: train\.warmup_epochs 3")
    # plateau has no warm-up (it does not apply there: common.fit_unused), as training knows
    config["experiments"] = {"long": {"train": {"epochs": 2, "warmup_epochs": 3,
                                                "schedule": "plateau"}}}
    check_config(config)


# --- experiment names --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [("2", "2"), ("0.5", "0.5"), ("on", "True")])
def test_experiment_names_yaml_reads_as_numbers_are_refused(config, text, shown):
    """`2: {}` crashed in check_config (NAME.fullmatch on an int), a traceback."""
    config["experiments"] = yaml.safe_load(f"{text}: {{}}")
    message = _refused(config, rf"experiments\.{shown}: ")
    assert "quote" in message


def test_a_quoted_number_is_a_name(config):
    config["experiments"] = yaml.safe_load("'2': {}\n'on': {}")
    check_config(config)


# --- which part of the config an error blames --------------------------------------------------

@pytest.mark.parametrize(("change", "key"), [
    (lambda c: c["train"].update(class_weights=[0, 0]), "train.class_weights"),
    (lambda c: c["crf"].update(tile=64, tile_overlap=32), "crf.tile"),
    (lambda c: c["train"].update(init_from="results/synthetic/wide/model.pt"),
     "train.init_from"),
])
def test_a_base_mistake_is_not_blamed_on_an_experiment(config, change, key):
    """Any override made every base mistake read `experiments.wide: ...`."""
    config["experiments"] = {"wide": {"model": {"base_width": 32}}}
    change(config)
    assert _refused(config, key.replace(".", r"\.")).startswith(key)


def test_an_overrides_mistake_names_the_experiment(config):
    config["experiments"] = {"baseline": {}, "t": {"train": {"class_weights": [0, 0]}}}
    assert _refused(config, "class_weights").startswith("experiments.t: train.class_weights")


def test_every_name_the_rules_write_beside_the_experiments_is_reserved(config):
    """An experiment named split.json or experiments.tsv was accepted: its folder and that
    file are one path."""
    import re

    from unet.config.experiments import RESERVED

    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    written = set(re.findall(r'\{(?:DATA|data)\}/([^/{"]+)', text))
    assert {"split.json", "experiments.tsv", "cache", "logs"} <= written
    assert written <= set(RESERVED)
    for name in written:
        config["experiments"] = {name: {}}
        _refused(config, rf"experiments\.{re.escape(name)}: ")


def test_the_readme_says_two_files_grids_merge():
    """The README said a grid in your config file replaces the default whole; two config
    files' grids merge, as Snakemake merges every mapping of its config files."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for grid in ({"bilateral_sxy": [30]}, {"bilateral_srgb": [5, 13]}):
        update_config(config, {"crf": {"tune": {"grid": grid}}})
    validate(config, SCHEMA)
    assert config["crf"]["tune"]["grid"] == {"bilateral_sxy": [30], "bilateral_srgb": [5, 13]}
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "two config files that set `crf.tune.grid` merge their grids" in readme


# --- missing_mask: empty writes zeros, which must read as background --------------------------

@pytest.mark.parametrize("masks, key", [
    ({"ignore": 0}, r"masks\.ignore"),  # values detected: zeros are don't-care, never scored
    ({"background": False}, r"masks\.background"),
])
def test_missing_mask_empty_with_zeros_not_background_is_refused(config, tmp_path, masks, key):
    config["dataset"].update(source="local", name="mine", local={**config["dataset"]["local"],
                                                    "path": str(tmp_path),
                                                    "missing_mask": "empty"})
    config["masks"].update(masks)
    message = _refused(config, key)
    assert "missing_mask: empty" in message and "dataset.local" in message
    config["dataset"]["local"]["missing_mask"] = "unpaired"
    check_config(config)  # zeros are written only for images without a mask


def test_missing_mask_empty_where_zero_is_background_is_accepted(config, tmp_path):
    config["dataset"].update(source="local", name="mine", local={**config["dataset"]["local"],
                                                    "path": str(tmp_path),
                                                    "missing_mask": "empty"})
    for masks in ({"values": [[0, 1], 255]}, {"colors": [[[9, 9, 9], [0, 0, 0]], [255, 0, 0]]},
                  {"values": [0, 255], "ignore": 128},
                  {"values": [255, 0]},  # the blank takes class 0's value (blank_background)
                  {"colors": [[255, 255, 255], [0, 0, 0], [255, 0, 0]]},
                  {"colors": [[9, 9, 9], [255, 0, 0]], "ignore": [0, 0, 0]}):
        config["masks"].update({"values": None, "colors": None, "ignore": None, **masks})
        check_config(config)


@pytest.mark.parametrize(("field", "key"), [("labelme", "json"), ("qupath", "json"),
                                          ("geojson", "file")])
def test_an_annotation_json_path_without_id_is_refused_before_any_job(config, tmp_path,
                                                                      monkeypatch, field, key):
    # labelme.json '{stem}.json' was refused only by download_dataset, after Snakemake had
    # deleted the data set's manifest: fixing the key then reran the split, cache and training
    monkeypatch.chdir(tmp_path)
    config["dataset"].update(source="local", name="mine")
    config["dataset"]["local"].update(path=str(tmp_path), images=".")
    config["dataset"]["local"][field] = {key: "{stem}.json"}
    text = _refused(config, rf"dataset\.local\.{field}\.{key} '\{{stem\}}\.json' has no \{{id\}}")
    assert "'ann/{id}." in text, text
    config["dataset"]["local"][field] = {key: "ann/{id}.json"}
    check_config(config)


def test_annotation_jsons_with_group_folders_are_refused_before_any_job(config, tmp_path,
                                                                        monkeypatch):
    # images: "{group}" with labelme was refused only by download_dataset, the manifest gone
    monkeypatch.chdir(tmp_path)
    config["dataset"].update(source="local", name="mine")
    config["dataset"]["local"].update(path=str(tmp_path), images="{group}",
                                      labelme={"json": "{id}.json"})
    _refused(config, r"dataset\.local\.labelme with \{group\} folders is not supported")


def test_voxel_spacing_without_cases_is_refused(config):
    # the spacing measures each split.group_by case as a volume: without cases it did nothing
    config["evaluate"]["voxel_spacing"] = [5.0, 0.7, 0.7]
    assert "split.group_by" in _refused(config, r"evaluate\.voxel_spacing")
    config["split"]["group_by"] = r"^(.+)_\d+$"
    check_config(config)
