"""Checks of check_config (unet.workflow) on the split, the data and the training sizes: what
the config alone shows cannot work, said when it is read rather than by a step."""

from __future__ import annotations

import re
from pathlib import Path

from unet.common.shapes import crop_fits, min_side, turns_fit
from unet.dataset.layout import local_root


class ConfigError(ValueError):
    """The config is valid JSON-schema-wise but cannot work."""


def _regex(value: str, key: str) -> None:
    try:
        re.compile(value)
    except re.error as err:
        raise ConfigError(f"{key} {value!r} is not a regular expression: {err}; fix it (a "
                          "literal '(' or '[' is written '\\(' or '\\[')") from None


def check_split(split: dict) -> None:
    """split.folds and split.val_ids together; split.group_by's regular expression."""
    if split["folds"] == 1:
        raise ConfigError("split.folds 1: use 0 for one train/val split, or k >= 2 folds")
    if split["folds"] >= 2 and split["val_ids"]:
        raise ConfigError(
            f"split.val_ids with split.folds {split['folds']}: the folds deal the validation "
            "images; set val_ids to [] or folds to 0"
        )
    if split.get("group_by") and split["group_by"] != "folder":  # folder: a keyword
        _regex(split["group_by"], "split.group_by")


def _listed_classes(masks: dict) -> tuple[str, int] | None:
    """The key that lists the classes (masks.colors or masks.values) and how many it lists;
    None when the values are detected from the masks."""
    for key in ("colors", "values"):
        if masks.get(key):
            return f"masks.{key}", len(masks[key])
    return None


def check_classes(config: dict, train: dict, crf: dict) -> None:
    """train.class_weights and crf.prob_clip against the classes masks.values or masks.colors
    lists."""
    check_class_weights(config["masks"], train)
    check_prob_clip(config["masks"], crf)


def check_prob_clip(masks: dict, crf: dict) -> None:
    """crf.prob_clip at most 1/classes (unet.crf.dense.check_prob_clip, which refuses it at
    the CRF step, after training) where masks.values or masks.colors lists the classes."""
    listed = _listed_classes(masks)
    if not (listed and crf["enabled"]) or crf["prob_clip"] <= 1.0 / listed[1]:
        return
    bound = f"{1.0 / listed[1]:.4g}"
    raise ConfigError(f"crf.prob_clip {crf['prob_clip']:g} is above 1/{listed[1]} = {bound} "
                      f"for {listed[1]} classes ({listed[0]} lists {listed[1]}): a pixel whose "
                      "most probable class is under it would lose its evidence; set "
                      f"crf.prob_clip at most {bound} (the default, 1e-05, suits any class "
                      "count)")


def check_class_weights(masks: dict, train: dict) -> None:
    """train.class_weights one per class that masks.values or masks.colors lists."""
    listed, weights = _listed_classes(masks), train.get("class_weights")
    if listed and weights and len(weights) != listed[1]:
        raise ConfigError(f"train.class_weights has {len(weights)} weights, but {listed[0]} "
                          f"lists {listed[1]} classes; give one weight per class, class 0 "
                          "first, or [] for equal weights")


def _check_listed(masks: dict) -> None:
    """Each value (colour) masks.values (colors) lists once, and a grey masks.ignore not
    among masks.values: what preprocess refuses (unet.cache.values), before any step runs."""
    key = "colors" if masks.get("colors") else "values"
    seen: dict = {}
    for i, value in enumerate(masks[key] or []):
        nested = isinstance(value, list) and (key == "values" or isinstance(value[0], list))
        for v in value if nested else [value]:
            v = tuple(v) if isinstance(v, list) else v  # a colour: hashable
            if v in seen:
                shown = list(v) if isinstance(v, tuple) else v
                raise ConfigError(f"masks.{key} lists {shown} twice: each class needs values "
                                  "of its own; remove the repeat")
            seen[v] = i
    ignore = masks.get("ignore")
    if key == "values" and isinstance(ignore, int) and ignore in seen:
        raise ConfigError(f"masks.ignore {ignore} is also class {seen[ignore]}'s value in "
                          "masks.values: its pixels would be skipped by the loss and the "
                          "metrics; remove it from one of the two")


def _check_threshold(masks: dict) -> None:
    """masks.threshold with the classes listed: what unet.cache.values refuses at preprocess
    (two grey values around it, or colours of channels 0 and 255, one per class)."""
    key = "colors" if masks.get("colors") else "values"
    threshold, listed = masks.get("threshold"), masks.get(key)
    if threshold is None or not listed:
        return
    if any(isinstance(v, list) and (key == "values" or isinstance(v[0], list)) for v in listed):
        raise ConfigError(f"masks.threshold {threshold:g} binarises, which takes one value per "
                          f"class: drop the lists in masks.{key}, or drop masks.threshold")
    if key == "colors":
        odd = next((c for c in listed if any(ch not in (0, 255) for ch in c)), None)
        if odd:
            raise ConfigError(f"masks.threshold binarises each channel of colour masks to 0 or "
                              f"255, so it can never give masks.colors' {odd}: list colours "
                              "whose channels are 0 or 255 only, or drop masks.threshold")
        if not 0 <= threshold < 255:
            raise ConfigError(f"masks.threshold {threshold:g} must lie in 0..254 for colour masks")
    elif len(listed) != 2:
        raise ConfigError(f"masks.threshold binarises, so masks.values must list two values "
                          f"(class 0, class 1), got {listed}; or drop masks.values")
    elif not min(listed) <= threshold < max(listed):
        raise ConfigError(f"masks.threshold {threshold:g} must lie between the two class values "
                          f"{listed} (values above it read as the higher one); change "
                          "masks.threshold or masks.values")


def check_data(config: dict) -> None:
    """The active source's mask_parts, a local folder that exists, masks.values or colors each
    once, a name for each class listed."""
    source = config["dataset"]["source"]
    settings = config["dataset"].get(source) or {}
    if settings.get("mask_parts"):
        _regex(settings["mask_parts"], f"dataset.{source}.mask_parts")
    path = settings.get("path")
    if source == "local" and path and not local_root(path).is_dir():
        raise ConfigError(f"dataset.local.path {path}: no such folder "
                          f"({Path(path).expanduser().resolve()}); give your data folder")
    _check_listed(config["masks"])
    _check_threshold(config["masks"])
    listed, names = _listed_classes(config["masks"]), config["masks"].get("names")
    if listed and names and len(names) != listed[1]:
        raise ConfigError(f"masks.names lists {len(names)} names, but {listed[0]} lists "
                          f"{listed[1]} classes; give one name per class, class 0 first")


def check_sizes(preprocess: dict, model: dict, train: dict) -> None:
    """Training inputs the model's depth, the crop or rot90 cannot take (the rules of
    unet.train.settings.check_settings and unet.train.augment, which refuse them at the
    first training step)."""
    resize = preprocess["mode"] == "resize"
    size = [preprocess["width"], preprocess["height"]] if resize else None
    patch, augment = train["patch"]["size"], train["augment"]
    # smp pads whole images to its multiple; patches are sliding-window tiles whose starts
    # keep that multiple, for either arch (a smaller tile would leave gaps)
    least = min_side(model["depth"]) if model["arch"] == "unet" else 0
    for key, side, need in (("train.patch.size", patch, min_side(model["depth"])),
                            ("preprocess width x height", size, least)):
        if side and min(side) < need:
            raise ConfigError(f"model.depth {model['depth']} needs inputs of at least {need} "
                              f"px a side, and {key} is {side[0]}x{side[1]}; lower model.depth "
                              "or enlarge them")
    if patch and size and (patch[0] > size[0] or patch[1] > size[1]):
        raise ConfigError(
            f"train.patch.size {patch[0]}x{patch[1]} exceeds preprocess width x height "
            f"{size[0]}x{size[1]}, the size of every cached image in mode resize: each patch "
            "and prediction tile would be partly zero padding; give a patch at most that size "
            "(or preprocess.mode native, which keeps each image's own size)"
        )
    crop = augment["crop"]
    if crop and size and not crop_fits(crop, size, model["depth"] if least else 0):
        raise ConfigError(f"train.augment.crop {crop[0]}x{crop[1]} must fit in preprocess "
                          f"width x height {size[0]}x{size[1]} and be at least {least} px a "
                          f"side for model.depth {model['depth']}")
    inputs = patch or size
    if not turns_fit(augment["rot90"], crop, inputs):
        raise ConfigError(
            f"train.augment.rot90 needs square training inputs, not {inputs[0]}x{inputs[1]}: "
            "make preprocess width = height (or train.patch.size, or train.augment.crop, "
            "square) or turn rot90 off"
        )
