"""Checks of check_config (unet.config.experiments) on the split, the data and the training
sizes: what the config alone shows cannot work, said when it is read rather than by a step."""

from __future__ import annotations

import re
from pathlib import Path

from unet.cache.mapping import ignore_value
from unet.cache.settings import settings_from_config
from unet.cache.values import mapping_from_values
from unet.common.labels import MaskValueError
from unet.common.shapes import crop_fits, elastic_fits, elastic_refusal, min_side, turns_fit
from unet.config.names import folder_left_unread
from unet.dataset.json_masks import drawn_objects
from unet.dataset.layout import local_root
from unet.evaluate.regions import RegionError, check_regions


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
    """train.class_weights, crf.prob_clip against the classes masks.values or masks.colors
    lists, and postprocess.candidates threshold."""
    check_class_weights(config["masks"], train)
    check_prob_clip(config["masks"], crf)
    check_threshold(config["masks"], config.get("postprocess", {}))


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


def check_threshold(masks: dict, postprocess: dict) -> None:
    """postprocess.candidates threshold only for two classes, where masks.values or
    masks.colors lists them (finalize_masks leaves it out otherwise, saying why)."""
    listed = _listed_classes(masks)
    if not listed or listed[1] == 2 or "threshold" not in postprocess.get("candidates", ()):
        return
    raise ConfigError(f"postprocess.candidates threshold cuts a binary task's foreground "
                      f"probability, but {listed[0]} lists {listed[1]} classes: remove "
                      "threshold from postprocess.candidates")


def check_class_weights(masks: dict, train: dict) -> None:
    """train.class_weights one per class that masks.values or masks.colors lists."""
    listed, weights = _listed_classes(masks), train.get("class_weights")
    if listed and weights and len(weights) != listed[1]:
        raise ConfigError(f"train.class_weights has {len(weights)} weights, but {listed[0]} "
                          f"lists {listed[1]} classes; give one weight per class, class 0 "
                          "first, or [] for equal weights")


def _check_mapping(masks: dict) -> None:
    """What preprocess's label mapping refuses of the classes masks.values or masks.colors
    lists (a value listed twice, masks.ignore among them, a masks.threshold they cannot take),
    refused here by the same check (unet.cache.values), before the download and split. No
    mask is read: a colour masks.ignore on palette masks is left to preprocess, which names
    its index from a mask."""
    if not (masks.get("values") or masks.get("colors") or masks.get("tolerance")):
        return
    settings = settings_from_config({}, {"values": None, "threshold": None, "ignore": None,
                                         **masks})
    ignore = settings.mask_ignore
    if isinstance(ignore, tuple) and not settings.mask_rgb and len(set(ignore)) > 1:
        ignore = None
    try:
        mapping_from_values(set(), list(settings.mask_values or ()), settings.mask_threshold,
                            settings.max_mask_values, ignore_value(ignore, settings.mask_rgb),
                            rgb=settings.mask_rgb, unlisted=settings.mask_unlisted,
                            tolerance=settings.mask_tolerance)
    except MaskValueError as err:
        raise ConfigError(str(err)) from err


def _check_separate(masks: dict, settings: dict, source: str) -> None:
    """masks.separate parts objects by their ids, which binarised grey (or palette) instance
    labels keep, and masks drawn from objects get drawn beside them: without masks.threshold
    the values are classes, and with masks.colors the threshold snaps each channel to class
    colours. Masks merged at download (mask_parts) keep no ids: refused here where a key says
    so (preprocess refuses the rest, unet.cache.separate); RLE rows are drawn as objects."""
    if not masks.get("separate") or drawn_objects(settings, masks):
        return
    if settings.get("mask_parts"):
        raise ConfigError(f"masks.separate needs one value per object, but dataset.{source}."
                          "mask_parts merges each image's objects into one mask at download, "
                          "their ids lost; set masks.separate: false, or give label images "
                          "of object ids")
    if masks.get("threshold") is None:
        raise ConfigError("masks.separate parts touching objects of instance labels (a value per "
                          "object), which masks.threshold binarises; set masks.threshold: 0 for "
                          "them, or masks.separate: false for masks of classes")
    if masks.get("colors"):
        raise ConfigError("masks.separate with masks.colors: the threshold snaps each channel to "
                          "a class colour, so no value is an object's; drop masks.colors (colour "
                          "ids are then read by brightness) or set masks.separate: false")


def _zero_reads_as(masks: dict) -> str | None:
    """The key that makes missing_mask: empty's blank mask anything but background. The blank
    takes class 0's value where masks.values or masks.colors list it (blank.blank_background),
    else zeros: with masks.ignore 0 those are don't-care, and without a background class 0 is
    an object, painted everywhere."""
    if masks.get("background") is False:
        return "masks.background false"
    ignore = masks.get("ignore")
    listed = masks.get("colors") or masks.get("values")
    if not listed and ignore is not None and (ignore == 0 or ignore == [0, 0, 0]):
        return f"masks.ignore {ignore}"  # the blank image would be all don't-care: never scored
    return None


def _check_blank(masks: dict, section: str) -> None:
    """missing_mask: empty writes an unmasked image's mask as zeros: they must read as class 0,
    background, or MVTec AD's defect-free images would be trained and scored as all defect."""
    if why := _zero_reads_as(masks):
        raise ConfigError(
            f"{section}.missing_mask: empty writes the mask of an image without one as class 0 "
            f"(zeros where masks.values and masks.colors are detected), but with {why} that is "
            "not background; give those images mask files, or list class 0 (background) first "
            "in masks.values or masks.colors")


def _check_json_paths(settings: dict, source: str) -> None:
    """labelme.json, qupath.json, xml.file, geojson.file and wkt.json name one file per image:
    refused without {id} (or with {group} folders; via.json, one file for all, with either)
    before any job, as download_dataset refuses it only after Snakemake has deleted the
    manifest it replaces (a fixed key then reran the split, cache and training)."""
    for field, key in (("labelme", "json"), ("qupath", "json"), ("xml", "file"),
                       ("geojson", "file"), ("wkt", "json")):
        template = (settings.get(field) or {}).get(key)
        ext = {"qupath": "geojson", "xml": "xml", "geojson": "geojson"}.get(field, "json")
        if template and "{group}" in str(settings.get("images") or ""):
            raise ConfigError(
                f"dataset.{source}.{field} with {{group}} folders is not supported: labels are "
                f"numbered over all files at once; give images one folder and {field}.{key} "
                "the files' path with {id}")
        if template and "{id}" not in template:
            raise ConfigError(
                f"dataset.{source}.{field}.{key} {template!r} has no {{id}}: it names each "
                f"image's file, e.g. 'images/{{id}}.{ext}' (beside the images) or "
                f"'ann/{{id}}.{ext}'")

    via = (settings.get("via") or {}).get("json")
    if via and "{id}" in via:  # one file for every image, not one per image
        raise ConfigError(f"dataset.{source}.via.json {via!r} has {{id}}, but VIA exports one "
                          "JSON for all the images: give its path, e.g. 'via_region_data.json'")
    if via and "{group}" in str(settings.get("images") or ""):
        raise ConfigError(f"dataset.{source}.via with {{group}} folders is not supported: give "
                          "images one folder and via.json the one JSON listing its images")


def _check_yolo_labels(settings: dict, source: str) -> None:
    """yolo.labels names one file per image: refused without {id}, or without {group} where
    images has it (each part's labels would be looked for in one folder), before any job."""
    template = str((settings.get("yolo") or {}).get("labels") or "")
    if template and "{id}" not in template:
        raise ConfigError(
            f"dataset.{source}.yolo.labels {template!r} has no {{id}}: it names each image's "
            "label file, e.g. 'labels/{group}/{id}.txt' (images 'images/{group}')")
    if template and "{group}" in str(settings.get("images") or "") and "{group}" not in template:
        raise ConfigError(
            f"dataset.{source}.yolo.labels {template!r} has no {{group}}, but images has: put "
            "it where the part's folder is, e.g. 'labels/{group}/{id}.txt'")


def check_data(config: dict) -> None:
    """The active source's mask_parts, a local folder that exists (and is not left unread by
    source synthetic), masks.values or colors each once, a name for each class listed."""
    source = config["dataset"]["source"]
    settings = config["dataset"].get(source) or {}
    if settings.get("mask_parts"):
        _regex(settings["mask_parts"], f"dataset.{source}.mask_parts")
    if (stem := settings.get("mask_stem") or {}).get("pattern"):  # as mask_parts: before a job
        from unet.dataset.stem_map import config_stem_error  # only where set: pairing's imports
        if why := config_stem_error(stem, f"dataset.{source}.mask_stem"):
            raise ConfigError(why)
    if why := folder_left_unread(config["dataset"]):
        raise ConfigError(why)
    path = settings.get("path")
    if source == "local" and path and not local_root(path).is_dir():
        # most tools read a config's relative paths from its own folder: this one does not
        where = ("" if Path(path).expanduser().is_absolute() else
                 f", relative to the working directory {Path.cwd()} (the folder snakemake runs "
                 "in, or --directory), not to the config file's folder")
        raise ConfigError(f"dataset.local.path {path}: no such folder "
                          f"({Path(path).expanduser().resolve()}{where}); give your data "
                          "folder, absolute or from there")
    _check_json_paths(settings, source)
    _check_yolo_labels(settings, source)
    _check_mapping(config["masks"])
    _check_separate(config["masks"], settings, source)
    if settings.get("missing_mask") == "empty":
        _check_blank(config["masks"], f"dataset.{source}")
    listed, names = _listed_classes(config["masks"]), config["masks"].get("names")
    if listed and names and len(names) != listed[1]:
        raise ConfigError(f"masks.names lists {len(names)} names, but {listed[0]} lists "
                          f"{listed[1]} classes; give one name per class, class 0 first")
    try:  # evaluate.regions against masks.values and names: said at planning, not after training
        check_regions(config.get("evaluate", {}).get("regions") or {}, config["masks"])
    except RegionError as err:
        raise ConfigError(str(err)) from None


def check_intensity_window(preprocess: dict) -> None:
    """Refuse a window (of a list, a band's) whose low end is not below its high end: it scales
    by hi - lo."""
    window = preprocess.get("intensity_window")
    if not window or window == "dicom":
        return
    for k, one in enumerate(window if isinstance(window[0], list) else [window]):
        if not one[0] < one[1]:
            band = f" (band {k + 1}'s {one})" if isinstance(window[0], list) else ""
            raise ConfigError(f"preprocess.intensity_window {window}{band} must be [low, high] "
                              "with low below high, e.g. [-200, 300] for CT's abdomen window")


def check_sizes(preprocess: dict, model: dict, train: dict) -> None:
    """Training inputs the model's depth, the crop, rot90 or elastic cannot take (the rules of
    unet.train.settings.check_settings and unet.train.augment, which refuse them at the
    first training step)."""
    check_intensity_window(preprocess)
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
    if not elastic_fits(augment["elastic"], augment["elastic_sigma"], inputs):
        key = "train.patch.size" if patch else "preprocess width x height"
        raise ConfigError(elastic_refusal(augment["elastic_sigma"], inputs, key))
