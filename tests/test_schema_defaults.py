"""One source of defaults: every settings dataclass takes its defaults from config/schema.yaml."""

import dataclasses

import pytest
import yaml

from tests.conftest import REPO
from unet.cache.settings import PreprocessSettings
from unet.common.schema import default, defaults
from unet.crf.dense import CRFParams
from unet.dataset.layout import Layout
from unet.infer.predict import PredictSettings
from unet.model.unet import UNetConfig
from unet.postprocess.finalize import FinalSettings
from unet.train.augment import AugmentSettings
from unet.train.border import BorderSettings
from unet.train.settings import PatchSettings, TrainSettings

# (dataclass, schema section, fields that are not config keys, config keys kept elsewhere)
SECTIONS = [
    (TrainSettings, ("train",), set(), set()),
    (AugmentSettings, ("train", "augment"), set(), set()),
    (PatchSettings, ("train", "patch"), set(), set()),
    (BorderSettings, ("train", "border_weight"), set(), set()),
    (UNetConfig, ("model",), {"in_channels", "num_classes"}, set()),
    # roi, recursive: predict_folder's own
    (PredictSettings, ("predict",), set(), {"roi", "recursive"}),
    (PreprocessSettings, ("preprocess",), {"mask_values", "mask_rgb", "mask_threshold",
                                           "max_mask_values", "mask_ignore", "class_names",
                                           "mask_unlisted", "mask_background", "mask_separate",
                                           "mask_tolerance"},
     set()),
    (CRFParams, ("crf",), set(), {"tune", "enabled"}),  # tune_crf's block; the rules' switch
    (FinalSettings, ("postprocess",), set(), set()),
    # path: where, not how; root: url and kaggle only (named in error messages); rle, coco,
    # labelme, qupath, via, yolo, xml, geojson, wkt: their own sections, held as items only
    # when their csv, json, labels or file is set; mask_stem: held as (pattern, replace), below
    (Layout, ("dataset", "local"), {"section", "root", "rle", "coco", "labelme", "qupath", "via",
                                    "yolo", "xml", "geojson", "wkt", "mask_stem"},
     {"path", "rle", "coco", "labelme", "qupath", "via", "yolo", "xml", "geojson", "wkt",
      "mask_stem"}),
]


def _value(v):
    if isinstance(v, dict):  # the nested sections of train
        if "w0" in v:
            return BorderSettings(**v)
        return PatchSettings(**v) if "per_image" in v else AugmentSettings(**v)
    return v


@pytest.mark.parametrize(("cls", "path", "extra", "elsewhere"), SECTIONS,
                         ids=[c[0].__name__ for c in SECTIONS])
def test_fields_are_the_schema_keys_with_its_defaults(cls, path, extra, elsewhere):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    schema = defaults(*path)
    assert set(fields) - extra == set(schema) - elsewhere
    for name in set(fields) - extra:
        f = fields[name]
        if f.default is not dataclasses.MISSING:
            got = f.default
        elif f.default_factory is not dataclasses.MISSING:
            got = f.default_factory()
        else:
            continue  # required: the pipeline always passes it
        want = schema[name]
        got = list(got) if isinstance(got, tuple) else got
        assert got == _value(want), f"{cls.__name__}.{name}: {got!r} vs schema {want!r}"


def test_mask_settings_defaults_are_the_schema_masks_section():
    masks = defaults("masks")
    p = PreprocessSettings(width=8, height=8)
    assert (p.mask_values, p.mask_threshold, p.max_mask_values, p.mask_ignore,
            p.class_names) == (masks["values"], masks["threshold"], masks["max_values"],
                               masks["ignore"], masks["names"])
    assert p.mask_unlisted is (masks["unlisted"] == "ignore")
    assert p.mask_background is masks["background"]
    assert p.mask_separate is masks["separate"] is False
    assert p.mask_tolerance == masks["tolerance"] == 0  # exact values: today's caches


def test_defaults_read_the_repository_schema():
    raw = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    assert default("crf", "tune", "max_images") == (
        raw["properties"]["crf"]["properties"]["tune"]["properties"]["max_images"]["default"]
    )
    assert defaults("train")["augment"] == defaults("train", "augment")  # nested filled


def test_masks_labelmap_defaults_to_none_in_the_schema_and_the_default_config():
    masks = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["masks"]
    assert default("masks", "labelmap") is None and masks["labelmap"] is None


def test_evaluate_regions_default_to_none_and_are_commented_in_the_default_config():
    text = (REPO / "config" / "config.yaml").read_text()
    assert default("evaluate", "regions") == {}
    assert "regions" not in yaml.safe_load(text)["evaluate"] and "# regions: {}" in text


def test_geojson_defaults_are_what_the_reader_assumes():
    # qupath.py reads a missing class_property as no class (unclassified: skip leaves them out)
    geojson = defaults("dataset", "local")["geojson"]
    assert geojson == {"file": "", "class_property": "", "unclassified": "skip"}
    assert set(defaults("dataset", "local")["qupath"]) == {"json", "unclassified"}
    text = (REPO / "config" / "config.yaml").read_text()
    assert '# geojson: {file: "", class_property: "", unclassified: skip}' in text


def test_mask_stem_default_is_the_layouts_and_commented_in_the_default_config():
    stem = defaults("dataset", "local")["mask_stem"]
    assert (stem["pattern"], stem["replace"]) == Layout().mask_stem == ("", "")
    text = (REPO / "config" / "config.yaml").read_text()
    assert '# mask_stem: {pattern: "", replace: ""}' in text


def test_wkt_defaults_are_what_the_reader_assumes():
    # wkt_json.py reads a missing class_property as no class, missing labels as no renaming
    wkt = defaults("dataset", "local")["wkt"]
    assert wkt == {"json": "", "class_property": "", "unclassified": "skip", "labels": {}}
    text = (REPO / "config" / "config.yaml").read_text()
    assert '# wkt: {json: "", class_property: "", unclassified: skip, labels: {}}' in text


@pytest.mark.parametrize(("key", "value", "comment"), [
    ("voxel_spacing", None, "null"), ("objects", False, "false"),
    ("iou_threshold", None, "null"), ("ground_truth", None, "null"),
    ("relaxed_slack", None, "null"), ("pr_curve", False, "false")])
def test_evaluate_opt_in_keys_default_off_and_are_commented_in_the_default_config(key, value,
                                                                                 comment):
    text = (REPO / "config" / "config.yaml").read_text()
    assert default("evaluate", key) is value
    assert key not in yaml.safe_load(text)["evaluate"]
    assert f"# {key}: {comment}" in text


def test_report_bands_default_to_none_and_are_commented_in_the_default_config():
    text = (REPO / "config" / "config.yaml").read_text()
    assert default("report", "bands") is None
    assert "report" not in yaml.safe_load(text) and "# bands: null" in text


def test_rle_id_path_defaults_to_file_names():
    # '' keeps the CSV id as the file name or stem (unet.dataset.rle.pair_rle)
    assert defaults("dataset", "local")["rle"]["id_path"] == ""
