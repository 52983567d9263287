# Shared helpers: paths, per-experiment settings, module dependencies.
from unet.deps import module_files
from unet.workflow import check_config, experiment_config, experiment_section

check_config(config)

DATASET = config["dataset"]["name"]
DATA = f"results/{DATASET}"  # split and cache, shared by every experiment
EXP = f"{DATA}/{{experiment}}"  # one folder per experiment, beside the data it was trained on
RESOURCES = f"resources/{DATASET}"
EXPERIMENTS = list(config["experiments"])


wildcard_constraints:
    experiment="|".join(EXPERIMENTS) if EXPERIMENTS else "[A-Za-z0-9_-]+",
    split="train|val|test",
    folder="[^/]+",


def modules(*names):
    """unet/ files that these modules import (transitively): Snakemake does not track imports."""
    return module_files(names, root=workflow.basedir)


def setting(section):
    """Params function: one config section with the experiment's overrides applied."""

    def get(wildcards):
        return experiment_section(config, section, wildcards.experiment)

    return get


def experiment_config_params(wildcards):
    """The config as this experiment sees it (for the report), less the unused sources."""
    cfg = experiment_config(config, wildcards.experiment)
    source = cfg["dataset"]["source"]
    cfg["dataset"] = {
        k: v for k, v in cfg["dataset"].items() if not isinstance(v, dict) or k == source
    }
    return cfg


def crf_tuning(wildcards):
    """The tuning result that refine_crf uses, when tuning is on for this experiment."""
    crf = experiment_section(config, "crf", wildcards.experiment)
    return [f"{DATA}/{wildcards.experiment}/crf_tuning.json"] if crf["tune"]["enabled"] else []


def source_settings():
    """Only the active source's settings, so editing an unused source reruns nothing."""
    source = config["dataset"]["source"]
    return config["dataset"].get(source, {})


def all_targets():
    return expand(f"{EXP}/report/curves.png", experiment=EXPERIMENTS) + [
        f"{DATA}/experiments.tsv"
    ]
