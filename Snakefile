# unet-pipeline: raw images and masks -> UNet -> masks -> dense CRF -> metrics.
# Run: snakemake --cores 4 --resources gpu=1   (see README.md)
import copy
import os
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

from unet.config.experiments import ConfigError, normalise_config
from unet.config.files import check_config_files, check_yaml
from unet.config.idle import idle_settings
from unet.config.names import folder_left_unread, name_dataset
from unet.common.schema import schema_document
from unet.config.schema import check_experiment_schemas, check_schema, coerce_numbers

min_version("9.0")

# Snakemake reads braces in the paths of the rules' own files (conda:, script:, unet/ modules)
# as wildcards, with no escape: a clone under "code {fork}/" stopped with a WildcardError or
# "NameError: The name 'fork' is unknown", naming neither the folder nor the fix.
if "{" in workflow.basedir or "}" in workflow.basedir:
    sys.exit(f"WorkflowError: the workflow's folder {workflow.basedir} has {{ or }} in its path, "
             "which Snakemake reads as wildcards in the rules' file paths; clone or move "
             "unet-pipeline into a folder without braces (the data and the working directory "
             "may keep theirs)")

# Snakemake's own refusal of a file YAML cannot read names neither the file nor the line.
try:
    check_yaml(os.path.join(workflow.basedir, "config/config.yaml"))
except ConfigError as err:
    sys.exit(f"ConfigError: {err}")


# Beside this file, not in the working directory: `snakemake -s path/to/Snakefile` run
# elsewhere, or `--directory`, finds it too.
configfile: os.path.join(workflow.basedir, "config/config.yaml")


# Parsed once while unchanged, shared with the settings' defaults (unet.common.schema) when the
# package is this checkout's; a copy, as the checks below must not change the shared one.
SCHEMA = copy.deepcopy(schema_document(Path(workflow.basedir, "config/schema.yaml").resolve()))
# 1e-3 (a string to PyYAML) or --config train='{lr: 0.01}' (strings): numbers where the
# schema wants one, before it checks them.
coerce_numbers(config, SCHEMA)
# A refused key is named with its fix, alone (validate would print the whole schema and config
# below it); each experiment's overrides are validated as the config that experiment sees, and
# an error names the experiment and the key (the message alone, as in rules/common.smk).
try:
    # a key given twice in a config file: YAML kept the last without a word
    check_config_files(workflow.configfiles)
    check_schema(config, SCHEMA)
    validate(config, "config/schema.yaml")  # sets the schema's defaults
    check_experiment_schemas(config, SCHEMA)
    # before the name is derived, which it would be from the folder: the fix then needs the
    # source alone, not a name too
    if _unread := folder_left_unread(config["dataset"]):
        raise ConfigError(_unread)
except ConfigError as err:
    sys.exit(f"ConfigError: {err}")
# An unset dataset.name is derived here, once, before anything reads it, so that the rules,
# params, scripts and report all see the same name (config files without one were refused).
# Each job's own snakemake (a SLURM job, a spawned job: --mode remote or subprocess) reads this
# file again: said by the main run only, not once more in every job's log.
if (_named := name_dataset(config)) is not None and workflow.is_main_process:
    print(_named, file=sys.stderr)
for _idle in idle_settings(config["dataset"]) if workflow.is_main_process else []:
    print(f"Warning: {_idle}", file=sys.stderr)  # a key set that does nothing here
# Steps depend on the settings' values, not on the order or number form they were written in.
normalise_config(config)


include: "rules/common.smk"
include: "rules/params.smk"
include: "rules/data.smk"
include: "rules/preprocess.smk"
include: "rules/train.smk"
include: "rules/predict.smk"
include: "rules/crf.smk"
include: "rules/postprocess.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


report: "report/workflow.rst"


# The steps that need the network run on the machine Snakemake runs on, never as cluster jobs:
# compute nodes often have none. Everything else may run anywhere.
localrules:
    download_dataset,
    fetch_encoder_weights,


rule all:
    input:
        all_targets(),
    default_target: True
