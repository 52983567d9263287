"""The schema's checks as the Snakefile runs them: an experiment's overrides are validated as
the config it sees, and its errors name it."""

import json

import pytest
from snakemake.utils import validate

from tests.conftest import SCHEMA, SCHEMA_PATH, TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError
from unet.config.schema import check_experiment_schemas


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


# --- numbers YAML or --config left as strings --------------------------------------------------

def test_numbers_written_as_strings_become_numbers(config):
    """PyYAML reads 1e-3 as a string (YAML 1.1 wants 1.0e-3), and --config parses nested
    values as strings: "'1e-3' is not of type 'number'"."""
    from unet.config.schema import coerce_numbers

    config["train"].update(lr="1e-3", epochs="5", ema="0", amp="false", amp_cpu="true",
                           deterministic="auto")
    config["train"]["augment"]["scale"] = ["0.5", "1"]
    config["split"]["test_ids"] = ["007", "1e3"]  # ids are strings: left alone
    config["dataset"]["local"]["path"] = "12"
    config["experiments"] = {"fast": {"train": {"lr": "2E-2"}, "crf": {"tile": "512"}}}
    coerce_numbers(config, SCHEMA)
    assert (config["train"]["lr"], config["train"]["epochs"], config["train"]["ema"]) == (
        0.001, 5, 0)
    assert (config["train"]["amp"], config["train"]["amp_cpu"]) == (False, True)
    assert config["train"]["deterministic"] == "auto"
    assert config["train"]["augment"]["scale"] == [0.5, 1]
    assert config["split"]["test_ids"] == ["007", "1e3"]
    assert config["dataset"]["local"]["path"] == "12"
    assert config["experiments"]["fast"] == {"train": {"lr": 0.02}, "crf": {"tile": 512}}
    validate(config, str(SCHEMA_PATH))
    config["train"]["lr"] = "fast"  # not a number: the schema's error stands
    coerce_numbers(config, SCHEMA)
    assert config["train"]["lr"] == "fast"


@pytest.mark.workflow
@pytest.mark.parametrize("args", [
    ("lr.yaml",), ("--config", "train={lr: 0.01, epochs: 3, amp: false}"),
    ("--config", "train={augment: {scale: null}, init_from: null}")])
def test_a_string_lr_plans(tmp_path, args):
    wd = copy_workflow(tmp_path)
    (wd / "lr.yaml").write_text("train: {lr: 1e-3}\n")
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, *args, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.workflow
@pytest.mark.parametrize(("override", "message"), [
    ({"train": {"warmup_epochs": 5}}, "ConfigError: train.warmup_epochs 5"),
    ({"trian": {"epochs": 5}}, "ConfigError: unknown key 'trian'; did you mean 'train'?"),
    ({"experiments": {"wide": {"model": {"base_width": "x"}}}},
     "ConfigError: experiments.wide: model.base_width"),
])
def test_config_errors_print_no_stack_frames(tmp_path, override, message):
    wd = copy_workflow(tmp_path)
    (wd / "bad.yaml").write_text(json.dumps(override))
    out = snakemake(wd, "-n", "--cores", "1", "--configfile", TINY, "bad.yaml", check=False)
    text = out.stdout + out.stderr
    assert out.returncode == 1 and message in text, text
    assert 'File "' not in text and "Traceback" not in text, text


def test_null_from_the_command_line_is_null(config):
    """--config parses nested values as strings: `train={augment: {scale: null}}` gave
    "'null' is not of type 'array', 'null'", and `split={group_by: null}` grouped by the
    regular expression 'null'. Where the schema takes null, null and ~ are null."""
    from unet.config.schema import coerce_numbers

    config["train"]["augment"]["scale"] = "null"
    config["masks"]["threshold"] = "~"
    config["split"]["group_by"] = "null"
    config["train"]["init_from"] = "Null"
    config["dataset"]["local"]["images"] = "null"  # a string-only key: a folder, as written
    config["experiments"] = {"e": {"predict": {"roi": "NULL"}}}
    coerce_numbers(config, SCHEMA)
    assert config["train"]["augment"]["scale"] is None
    assert config["masks"]["threshold"] is None
    assert config["split"]["group_by"] is None and config["train"]["init_from"] is None
    assert config["experiments"]["e"]["predict"]["roi"] is None
    assert config["dataset"]["local"]["images"] == "null"
    validate(config, str(SCHEMA_PATH))


@pytest.mark.parametrize(("change", "message"), [
    ({"trian": {"epochs": 3}}, "unknown key 'trian'; did you mean 'train'?"),
    ({"train": {"epocs": 3}}, "train: unknown key 'epocs'; did you mean 'epochs'?"),
    ({"crf": {"tune": {"grid": {"srgb": [5]}}}},
     "crf.tune.grid: unknown key 'srgb'; crf.tune.grid takes bilateral_compat, "),
    ({"train": {"epochs": 2.5}}, "train.epochs: 2.5 is not of type 'integer'"),
])
def test_a_schema_error_names_the_key_and_the_fix(config, change, message):
    """Snakemake's validate printed the whole schema and config (3,800 lines for a typo at the
    top level) below its one useful line."""
    from unet.config.schema import check_schema

    for section, values in change.items():
        config[section] = {**config.get(section, {}), **values}
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value).startswith(message), str(err.value)
    assert len(str(err.value)) < 400


def test_command_line_values_in_lists_of_either_kind_become_numbers(config):
    """`--config masks='{values: [0, 255]}'` gave "'255' is not valid under any of the given
    schemas": items that may be a number or a list (anyOf) stayed strings, as did
    train.augment.flip's false (an enum of true, false and names, with no type)."""
    from unet.config.schema import coerce_numbers

    config["masks"]["values"] = ["0", ["1", "2"], "255"]
    config["train"]["augment"]["flip"] = "false"
    config["experiments"] = {"e": {"train": {"augment": {"flip": "true"}}}}
    coerce_numbers(config, SCHEMA)
    assert config["masks"]["values"] == [0, [1, 2], 255]
    assert config["train"]["augment"]["flip"] is False
    assert config["experiments"]["e"]["train"]["augment"]["flip"] is True
    validate(config, str(SCHEMA_PATH))
    config["masks"]["values"] = None
    config["masks"]["colors"] = [["0", "0", "0"], [["255", "0", "0"], ["0", "0", "255"]]]
    coerce_numbers(config, SCHEMA)
    assert config["masks"]["colors"] == [[0, 0, 0], [[255, 0, 0], [0, 0, 255]]]
    config["train"]["augment"]["flip"] = "vertical"  # a name: left as written
    coerce_numbers(config, SCHEMA)
    assert config["train"]["augment"]["flip"] == "vertical"


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"dataset": {"name": "my cells"}}, "letters, digits, '.', '_' and '-' only"),
        ({"experiments": {"my exp": {}}}, "letters, digits, '.', '_' and '-' only"),
        ({"train": {"device": "gpu"}}, "auto (CUDA if present), cpu, cuda or cuda:N"),
    ],
)
def test_a_value_of_the_wrong_form_is_refused_with_what_the_key_takes(config, override, says):
    """A name with a space was refused as "does not match '^(?!\\.\\.?$)[A-Za-z0-9._-]+$'":
    a regular expression, not what to write."""
    from unet.config.schema import check_schema

    for section, value in override.items():
        config[section] = {**config[section], **value} if section != "experiments" else value
    with pytest.raises(ConfigError, match="does not match") as err:
        check_schema(config, SCHEMA)
    assert says in str(err.value), err.value
