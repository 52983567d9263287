"""Config checks that a JSON schema cannot express, and per-experiment settings."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from unet.common.applicable import applicable, tracked
from unet.config.checks import (
    ConfigError,
    check_classes,
    check_data,
    check_sizes,
    check_split,
    min_side,
)
from unet.config.forms import home_paths, square_sizes
from unet.config.metadata_path import check_strata
from unet.config.names import check_dataset_name
from unet.config.rescale_check import rescale_refusal
from unet.dataset.split import ID_KEYS

__all__ = ["ConfigError", "check_config", "experiment_config", "experiment_section", "min_side",
           "model_owner"]

EXPERIMENT_SECTIONS = ("model", "train", "predict", "crf")
# results/<dataset>/ names the rules write beside the experiments' folders (rules/*.smk)
RESERVED = ("cache", "logs", "benchmarks", "split.json", "experiments.tsv")
# Names become folders (resources/<name>/, results/<name>/<experiment>/): one safe path component,
# never `.` or `..`. config/schema.yaml and the wildcard constraints in rules/common.smk use the
# same pattern; fullmatch, as `$` alone would also accept a trailing newline.
NAME = re.compile(r"(?!\.\.?$)[A-Za-z0-9._-]+")
NAME_RULE = "use letters, digits, '.', '_' and '-' only, and not '.' or '..'"


WHOLE = ("grid",)  # crf.tune.grid: an override lists the settings to try, all of them


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in WHOLE
            else copy.deepcopy(value)
        )
    return out


def normalise_config(config: dict) -> None:
    """Write `config` one way, in place: every mapping ordered by key, every whole float (1.0)
    as the integer it equals, a square size's 64 as [64, 64], a leading ~ as the home folder.
    Rule params are compared as written, so the same values in another order (or merged from
    several files, whose order wins) or in another form would make steps stale. Lists keep
    their order: it means something there."""
    def ordered(node):
        if isinstance(node, dict):
            return {k: ordered(node[k]) for k in sorted(node, key=str)}
        if isinstance(node, list):
            return [ordered(v) for v in node]
        if isinstance(node, float) and node.is_integer():
            return int(node)
        return node

    items = ordered(config)
    config.clear()
    config.update(items)
    home_paths(config)
    square_sizes(config)


def experiment_section(config: dict, section: str, experiment: str) -> dict:
    """`config[section]` with `config['experiments'][experiment][section]` merged over it."""
    override = (config["experiments"].get(experiment) or {}).get(section, {})
    return _merge(config[section], override)


def model_owner(config: dict, experiment: str, trained: tuple[str, ...] = ()) -> str:
    """The experiment that trains `experiment`'s model: of those whose training is the same
    (model and train sections as train_unet's params see them, less the keys that do not apply
    and the speed keys), the first by name (normalise_config's order) among those `trained`
    already, else the first by name: one added later whose name sorts first must not retrain
    it and rerun the others' steps. The rest predict with its model: an experiment that differs
    in prediction or the CRF trains nothing."""
    def training(name: str) -> tuple:
        train = experiment_section(config, "train", name)
        return (applicable("model", experiment_section(config, "model", name), train),
                tracked("train", applicable("train", train)))

    own = training(experiment)
    same = [name for name in sorted(config["experiments"]) if training(name) == own]
    return next((name for name in same if name in trained), same[0])


def check_config(config: dict) -> None:
    """Raise ConfigError, naming the key, for settings that cannot work together: the names,
    then the base config, then each experiment's overrides."""
    _check_names(config)
    _check_base(config)
    for exp in config["experiments"]:
        _check_experiment(config, exp)


def _check_names(config: dict) -> None:
    """dataset.name and the experiments' names, which name folders, and their sections."""
    name = config["dataset"]["name"]
    if not NAME.fullmatch(name):
        raise ConfigError(f"dataset.name {name!r}: {NAME_RULE} (it names a folder)")
    if not config["experiments"]:
        raise ConfigError("experiments: name at least one experiment, e.g. `baseline: {}`")
    for exp, override in config["experiments"].items():
        if not isinstance(exp, str):
            kind = "true or false (as yes, no, on, off)" if isinstance(exp, bool) else "a number"
            example = "'on'" if isinstance(exp, bool) else f"'{exp}'"
            raise ConfigError(
                f"experiments.{exp}: YAML reads this name as {kind}, not as a name; quote it "
                f"as you wrote it, e.g. {example}: {{...}}"
            )
        if not NAME.fullmatch(exp):
            raise ConfigError(f"experiments.{exp}: {NAME_RULE} (it names a folder)")
        if exp in RESERVED:
            raise ConfigError(
                f"experiments.{exp}: {', '.join(RESERVED)} are written in results/{name}/ "
                "already; rename the experiment"
            )
        for key in override or {}:
            if key not in EXPERIMENT_SECTIONS:
                raise ConfigError(
                    f"experiments.{exp}.{key}: experiments override only "
                    f"{', '.join(EXPERIMENT_SECTIONS)}"
                )


def _check_base(config: dict) -> None:
    """The sections no experiment overrides: split, preprocess, masks, dataset."""
    split = config["split"]
    check_split(split)
    check_strata(split)
    _check_id_files(split)
    spacing = config.get("evaluate", {}).get("voxel_spacing")
    if spacing and not split.get("group_by"):
        raise ConfigError(
            f"evaluate.voxel_spacing {spacing} measures each split.group_by case as a volume, "
            "but split.group_by is unset: set it (e.g. '^(.+)_\\d+$' for unet unstack's "
            "slices) or remove evaluate.voxel_spacing")
    used = applicable("split", split)  # with folds or listed ids a fraction is unused
    if used.get("val_fraction", 0) + used.get("test_fraction", 0) >= 1:
        raise ConfigError(
            "split.val_fraction + split.test_fraction must be below 1 to leave images for training"
        )
    pre = config["preprocess"]
    if pre.get("mode", "resize") == "resize" and pre.get("scale", 1) != 1:
        raise ConfigError(
            f"preprocess.scale {pre['scale']} applies to preprocess.mode native, which keeps "
            "each image's aspect ratio; mode resize sizes every image by preprocess.width and "
            "height: set mode: native, or drop the scale"
        )
    if config["masks"]["values"] and config["masks"].get("colors"):
        raise ConfigError(
            "masks.values and masks.colors are both set: give grey values or colours, not both"
        )
    source = config["dataset"]["source"]
    if source == "local" and not config["dataset"]["local"].get("path"):
        raise ConfigError("dataset.local.path: set it to your data folder (source is local)")
    check_data(config)
    if source == "url" and not config["dataset"].get("url", {}).get("archives"):
        raise ConfigError(
            "dataset.url.archives: list at least one archive, e.g. "
            "[{url: https://host/data.zip, sha256: null}] (source is url)"
        )
    if why := check_dataset_name(config["dataset"]):  # after the data's own refusals
        raise ConfigError(why)


def _check_experiment(config: dict, exp: str) -> None:
    """Settings of one experiment that cannot work with the data layout or with each other:
    first the base sections as it sees them (a mistake there is the base's, named without the
    experiment), then with its overrides, whose errors name it."""
    base = {s: config[s] for s in EXPERIMENT_SECTIONS}
    _check_sections(config, exp, base)
    if config["experiments"][exp]:
        merged = {s: experiment_section(config, s, exp) for s in EXPERIMENT_SECTIONS}
        try:
            _check_sections(config, exp, merged)
        except ConfigError as err:
            raise ConfigError(f"experiments.{exp}: {err}") from None


def _check_sections(config: dict, exp: str, sections: dict) -> None:
    """Raise ConfigError for `sections` (model, train, crf: the base's or an experiment's) that
    cannot work with the data layout or with each other."""
    model, train, crf = sections["model"], sections["train"], sections["crf"]
    if model["arch"] == "smp" and not 3 <= model["depth"] <= 5:
        raise ConfigError(f"model.depth {model['depth']}: arch smp takes 3, 4 or 5")
    if model["arch"] == "smp":  # smp and timm only where asked for: they take seconds to import
        from unet.model.encoder_check import encoder_problem

        problem = encoder_problem(model["encoder"], model["encoder_weights"])
        if problem:
            raise ConfigError(problem)
    if config["preprocess"]["mode"] == "native" and not train["patch"]["size"]:
        raise ConfigError(
            "train.patch.size: preprocess.mode native caches images of different "
            "sizes, which train as patches; set it, e.g. [256, 256]"
        )
    scale = train["augment"].get("scale")
    if scale and scale[0] > scale[1]:
        raise ConfigError(f"train.augment.scale {scale}: give [smallest, largest], "
                          f"e.g. [{scale[1]}, {scale[0]}]")
    # as many: train.lr at the last step; plateau has no warm-up (unet.train.optim)
    if train["schedule"] != "plateau" and train["warmup_epochs"] > train["epochs"]:
        raise ConfigError(f"train.warmup_epochs {train['warmup_epochs']} is longer than "
                          f"train.epochs {train['epochs']}: the lr would never reach train.lr "
                          "nor decay; lower the warmup (e.g. 1) or train longer")
    check_classes(config, train, crf)
    if train.get("class_weights") and not any(train["class_weights"]):
        raise ConfigError("train.class_weights are all 0: no pixel would count in the "
                          "loss; give each class a weight above 0, or [] for none")
    _check_source_model(config, exp, train.get("init_from"))
    if crf["tile"] <= 2 * crf["tile_overlap"]:
        raise ConfigError(
            f"crf.tile {crf['tile']} must exceed twice crf.tile_overlap "
            f"{crf['tile_overlap']} (each tile keeps its centre): raise the tile or lower the "
            "overlap"
        )
    if train["patch"]["size"] and train["augment"]["crop"]:
        raise ConfigError(
            "train.augment.crop and train.patch.size both crop the training images; "
            "keep train.patch and set crop to null"
        )
    check_sizes(config["preprocess"], model, train)
    mode = config["preprocess"]["mode"]  # predict.rescale: as --rescale, native models only
    if why := rescale_refusal(sections["predict"].get("rescale", 1), mode):
        raise ConfigError(why)


def _check_source_model(config: dict, exp: str, source: str | None) -> None:
    """Refuse a train.init_from inside the experiment's own folder: the model it names is an
    output of the training it would start, which Snakemake deletes before retraining."""
    if not source:
        return
    folds = config["split"]["folds"]
    if "{fold}" in source and folds < 2:
        raise ConfigError(f"train.init_from {source} has {{fold}}, for cross-validation "
                          "only: set split.folds to 2 or more, or give one model.pt")
    for fold in range(folds) if "{fold}" in source else [None]:
        _check_source_path(config, exp, source if fold is None
                           else source.replace("{fold}", str(fold)))


def _check_source_path(config: dict, exp: str, source: str) -> None:
    """One model file of train.init_from (a fold's, for {fold})."""
    own = Path("results", config["dataset"]["name"], exp)
    path = Path(source).resolve()
    if path == own.resolve() or own.resolve() in path.parents:
        raise ConfigError(
            f"train.init_from {source} lies in {own}/, which this experiment's training "
            "writes (Snakemake would delete it to retrain): copy the model out first, e.g. "
            f"`cp {source} pretrained.pt`, and give the copy"
        )
    if not path.is_file() and path not in _built_models(config, exp):
        raise ConfigError(
            f"train.init_from {source}: no file {path} (Snakemake would not notice and "
            "keep the models trained from it); give an existing model.pt, or another "
            f"experiment's results/{config['dataset']['name']}/<experiment>/model.pt"
        )


def _built_models(config: dict, exp: str) -> set[Path]:
    """The model files of the other experiments, which this workflow trains."""
    folds = config["split"]["folds"]
    names = [f"folds/{k}/model.pt" for k in range(folds)] if folds >= 2 else ["model.pt"]
    root = Path("results", config["dataset"]["name"])
    return {(root / other / name).resolve() for other in config["experiments"] if other != exp
            for name in names}


def _check_id_files(split: dict) -> None:
    """split.test_ids, val_ids and exclude_ids as a string name a text file of ids: a missing
    one would be noticed only by a split that Snakemake has to run."""
    for key in ID_KEYS:
        value = split[key]
        if not isinstance(value, str) or Path(value).is_file():
            continue
        looks_like_id = "/" not in value and "." not in value
        hint = f"; for the id itself write a list, [{value}]" if looks_like_id else ""
        raise ConfigError(
            f"split.{key} {value!r} names no file ({Path(value).resolve()}): a string is a text "
            f"file of ids, one a line{hint}"
        )


def experiment_config(config: dict, experiment: str) -> dict:
    """The whole config as `experiment` sees it, to validate its overrides like the base."""
    merged = copy.deepcopy(config)
    for section in EXPERIMENT_SECTIONS:
        merged[section] = experiment_section(config, section, experiment)
    merged["experiments"] = {}
    return merged
