"""Config mistakes refused when the config is read, each named with its fix: a mistyped key
in a data source's section, a key at the wrong level, a section of the wrong kind."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import SCHEMA
from unet.config.experiments import ConfigError
from unet.config.schema import check_schema


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
    from unet.config.schema import coerce_numbers

    config["experiments"] = experiments
    coerce_numbers(config, SCHEMA)
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value) == message, err.value


@pytest.mark.parametrize(("change", "message"), [
    # top level: 'preprocess' was offered as what `epochs` meant
    ({"epochs": 3}, "unknown key 'epochs'; it is a key of train: write it there (train.epochs)"),
    ({"train": {"size": [64, 64]}}, "train: unknown key 'size'; it is a key of train.patch: "
                                    "write it there (train.patch.size)"),
    ({"model": {"width": 32}}, "model: unknown key 'width'; did you mean 'base_width'? It is "
                               "also a key of dataset.synthetic and preprocess"),
    ({"experiments": {"wide": {"epochs": 3}}},
     "experiments.wide: unknown key 'epochs'; it is a key of train: write it there "
     "(experiments.wide.train.epochs)"),
])
def test_a_key_at_the_wrong_level_names_where_it_belongs(config, change, message):
    """A key one level off (`epochs:` beside `train:`, `train.size` for train.patch.size) was
    refused with the nearest spelling at its level ("did you mean 'preprocess'?") or a list
    of that level's keys, not with the section that has a key of that name."""
    for section, values in change.items():
        merge = isinstance(values, dict) and section != "experiments"
        config[section] = {**config.get(section, {}), **values} if merge else values
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value) == message, err.value


def test_a_key_spelt_as_at_its_level_is_still_offered_first(config):
    config["train"]["epocs"] = 3
    with pytest.raises(ConfigError, match=r"^train: unknown key 'epocs'; did you mean 'epochs'\?$"):
        check_schema(config, SCHEMA)


def test_in_an_experiment_only_the_sections_it_overrides_are_offered(config):
    """An experiment cannot set preprocess.width: `experiments.a.train.width` is not told
    to write it there."""
    from unet.config.schema import check_experiment_schemas

    config["experiments"] = {"a": {"train": {"width": 3, "flip": True}}}
    with pytest.raises(ConfigError) as err:
        check_experiment_schemas(config, SCHEMA)
    assert str(err.value).startswith("experiments.a: train: unknown key 'width'; train takes "), err
    config["experiments"] = {"a": {"train": {"flip": True}}}
    with pytest.raises(ConfigError) as err:
        check_experiment_schemas(config, SCHEMA)
    assert str(err.value) == ("experiments.a: train: unknown key 'flip'; it is a key of "
                              "train.augment: write it there (train.augment.flip)"), err


@pytest.mark.parametrize("patch", [[256, 256], [192, 256], [256, 64]])
def test_a_patch_larger_than_the_resized_images_is_refused(config, patch):
    """In mode resize every cached image is preprocess width x height: train.patch.size
    256x256 over 192x128 images trained on patches that were 62 % zero padding and predicted
    in tiles mostly of padding, at the padded size's cost, and nothing said so."""
    from unet.config.experiments import check_config

    config["train"]["patch"]["size"] = patch
    with pytest.raises(ConfigError) as err:
        check_config(config)
    assert str(err.value).startswith(
        f"train.patch.size {patch[0]}x{patch[1]} exceeds preprocess width x height 192x128"), err
    config["train"]["patch"]["size"] = [192, 128]  # the whole image: fits
    check_config(config)
    config["train"]["patch"]["size"] = [64, 64]
    check_config(config)
    config["experiments"] = {"big": {"train": {"patch": {"size": patch}}}}
    with pytest.raises(ConfigError, match=r"^experiments\.big: train\.patch\.size "):
        check_config(config)


@pytest.mark.parametrize(("section", "key", "seed"), [
    ("split", None, -1),  # split_dataset: "ValueError: expected non-negative integer"
    ("dataset", "synthetic", -1),  # download_dataset, the same
    ("train", None, 2**64),  # train_unet: "Overflow when unpacking long long"
    ("split", None, 2**32),
])
def test_a_seed_the_random_generators_cannot_take_is_refused_at_once(config, section, key, seed):
    """Every integer passed the schema; numpy's generators take none below 0 and torch's none
    of 2^64 and above, so a step failed with their error, not naming the key."""
    node = config[section][key] if key else config[section]
    node["seed"] = seed
    with pytest.raises(ConfigError, match=r"\.seed: "):
        check_schema(config, SCHEMA)
    node["seed"] = 2**32 - 1
    check_schema(config, SCHEMA)


@pytest.mark.parametrize(("section", "key", "value"), [
    ("train", "lr", float("nan")), ("train", "max_minutes", float("inf")),
    ("masks", "threshold", float("-inf")), ("crf", "gaussian_sxy", float("inf")),
])
def test_a_number_that_is_not_finite_is_refused(config, section, key, value):
    """YAML's .nan and .inf passed every minimum and maximum (nan compares false to all):
    train.lr .nan trained on NaN losses, max_minutes .inf meant no limit only by chance."""
    config[section][key] = value
    with pytest.raises(ConfigError, match=rf"^{section}\.{key}: {value} is not a finite number"):
        check_schema(config, SCHEMA)


def test_a_non_finite_number_in_an_experiment_names_it(config):
    from unet.config.schema import check_experiment_schemas

    config["experiments"] = {"a": {"train": {"class_weights": [1, float("nan")]}}}
    with pytest.raises(ConfigError, match=r"^experiments\.a: train\.class_weights\.1: nan is "):
        check_experiment_schemas(config, SCHEMA)


@pytest.mark.parametrize(("section", "key", "value", "says"), [
    ("local", "image_extensions", ["png"], "Image file extensions to pick up, each with its dot"),
    ("local", "mask_extensions", [".png", "gif"], "Mask file extensions to pick up"),
])
def test_an_item_of_the_wrong_form_is_refused_with_what_its_key_takes(config, section, key,
                                                                      value, says):
    """`image_extensions: [png]` was refused as "does not match '^\\\\.'": the items' pattern
    has no description of its own, so the message gave a regular expression alone."""
    config["dataset"][section][key] = value
    with pytest.raises(ConfigError, match="does not match") as err:
        check_schema(config, SCHEMA)
    assert says in str(err.value), err.value


@pytest.mark.parametrize(("word", "value"), [("no", False), ("Yes", True), ("off", False),
                                             ("ON", True), ("True", True)])
def test_yaml_boolean_words_from_the_command_line_are_booleans(config, word, value):
    """`crf: {enabled: no}` in a config file is false (YAML 1.1, as PyYAML reads it), but
    `--config crf='{enabled: no}'`, whose nested values Snakemake leaves as text, was refused
    as "'no' is not of type 'boolean'"."""
    from unet.config.schema import coerce_numbers

    assert yaml.safe_load(f"a: {word}")["a"] is value
    config["crf"]["enabled"] = word
    config["train"]["amp_cpu"] = word
    config["train"]["augment"]["flip"] = word
    config["experiments"] = {"e": {"predict": {"tta": word}}}
    coerce_numbers(config, SCHEMA)
    assert config["crf"]["enabled"] is value and config["train"]["amp_cpu"] is value
    assert config["train"]["augment"]["flip"] is value
    assert config["experiments"]["e"]["predict"]["tta"] is value
    check_schema(config, SCHEMA)


def test_a_key_one_level_too_high_names_the_section_below_it(config):
    """`dataset.local.csv` belongs in dataset.local.rle; the url and kaggle sources' rle
    sections, which have the key too, are not where this one goes."""
    config["dataset"]["local"]["csv"] = "train.csv"
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value) == ("dataset.local: unknown key 'csv'; it is a key of "
                              "dataset.local.rle: write it there (dataset.local.rle.csv)"), err


@pytest.mark.parametrize(("section", "key"), [("train", "patch"), ("train", "augment")])
def test_a_section_set_to_null_says_how_to_unset_it(config, section, key):
    """`train: {patch: null}` (patches off, to try preprocess.mode resize on top of
    config/isbi2012.yaml) was refused as "None is not of type 'object'", without the fix."""
    config[section][key] = None
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    message = str(err.value)
    assert message.startswith(f"{section}.{key}: null where a section of keys goes"), message
    assert "set the key you mean" in message
    if key == "patch":  # the key that turns patches off is named with its null
        assert "train.patch.size: null" in message


@pytest.mark.parametrize("section", ["train", "predict", "model"])
def test_a_top_level_section_set_to_null_is_not_told_a_key_turns_it_off(config, section):
    """`train: null` was told to write `train.init_from: null` as the way to turn it off;
    no key turns training or prediction off."""
    config[section] = None
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    message = str(err.value)
    assert message.startswith(f"{section}: null where a section of keys goes"), message
    assert "turns it off" not in message, message
    assert "(train.init_from: null" not in message and "(predict.roi: null" not in message


def test_a_section_with_enabled_says_enabled_false_turns_it_off(config):
    config["crf"] = None
    with pytest.raises(ConfigError, match=r"crf\.enabled: false turns it off"):
        check_schema(config, SCHEMA)
