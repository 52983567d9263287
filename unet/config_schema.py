"""The schema's checks as the Snakefile runs them beyond Snakemake's validate: each experiment's
overrides validated as the config that experiment sees, its errors naming it."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from unet.workflow import ConfigError, experiment_config


def check_experiment_schemas(config: dict, schema: dict) -> None:
    """Raise ConfigError `experiments.<name>: <key path>: <what is wrong>` for the first
    experiment whose overrides the schema refuses (Snakemake's validate named neither)."""
    validator = Draft202012Validator(schema)
    for name in config["experiments"]:
        error = best_match(validator.iter_errors(experiment_config(config, name)))
        if error is None:
            continue
        path = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"experiments.{name}: {path}: {error.message}")
