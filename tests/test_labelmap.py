"""masks.labelmap: a CVAT labelmap.txt or a Roboflow _classes.csv fills the classes in the
file's order (typed names once attached to classes numbered by colour value), refuses a
malformed line or a hand-typed list that disagrees, and reruns preprocess only when what it
lists changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError

CVAT = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:250,50,83::\nroad:51,221,255::\n"
ROBOFLOW = "Pixel Value, Class\n0, background\n2, crack\n1, spall\n"


def _local(config: dict, folder: Path, name: str, text: str) -> dict:
    (folder / name).write_text(text)
    config["dataset"].update(source="local", local={**config["dataset"]["local"],
                                                    "path": str(folder)})
    config["masks"]["labelmap"] = name
    return config


def _filled(config: dict) -> dict:
    from unet.config.labelmap import fill_labelmap

    fill_labelmap(config)
    return config["masks"]


def test_a_cvat_labelmap_gives_colours_and_names_in_the_files_order(config, tmp_path):
    masks = _filled(_local(config, tmp_path, "labelmap.txt", CVAT))
    assert masks["colors"] == [[0, 0, 0], [250, 50, 83], [51, 221, 255]]
    assert masks["names"] == ["background", "car", "road"]


def test_a_roboflow_classes_csv_gives_values_and_names_in_the_files_order(config, tmp_path):
    masks = _filled(_local(config, tmp_path, "_classes.csv", ROBOFLOW))
    assert (masks["values"], masks["names"]) == ([0, 2, 1], ["background", "crack", "spall"])


@pytest.mark.parametrize(("name", "text", "says"), [
    ("labelmap.txt", "background:0,0,0::\nroad:51,221::\n", "line 2"),
    ("labelmap.txt", "background:0,0,0::\nroad:51,221,300::\n", "line 2"),
    ("labelmap.txt", "background:0,0,0::\nroad:0,0,0::\n", "line 1 too"),
    ("labelmap.txt", "background:0,0,0::\n", "1 class"),
    ("_classes.csv", "Pixel Value, Class\n0, background\nx, crack\n", "line 3"),
    ("_classes.csv", "Pixel Value, Class\n0, background\n1, a\n2, a\n", "name a"),
])
def test_a_malformed_export_is_refused_naming_file_and_line(config, tmp_path, name, text, says):
    with pytest.raises(ConfigError, match=re.escape(says)) as err:
        _filled(_local(config, tmp_path, name, text))
    assert str(tmp_path / name) in str(err.value)


@pytest.mark.parametrize("text", [
    "Pixel Value,Class,\r\n0,background,\r\n2,crack,\r\n1,spall,\r\n",  # a stray cell beside
    "Pixel Value;Class\r\n0;background\r\n2;crack\r\n1;spall\r\n",  # Excel, decimal-comma locale
])
def test_a_classes_csv_saved_again_by_excel_is_read(config, tmp_path, text):
    masks = _filled(_local(config, tmp_path, "_classes.csv", text))
    assert (masks["values"], masks["names"]) == ([0, 2, 1], ["background", "crack", "spall"])


@pytest.mark.parametrize(("key", "value"), [
    ("colors", [[0, 0, 0], [51, 221, 255], [250, 50, 83]]),  # the classes by colour value
    ("names", ["background", "road", "car"]),
    ("values", [0, 1, 2]),
])
def test_lists_typed_beside_it_that_disagree_are_refused(config, tmp_path, key, value):
    config["masks"][key] = value
    with pytest.raises(ConfigError, match=f"masks.{key}"):
        _filled(_local(config, tmp_path, "labelmap.txt", CVAT))


def test_lists_typed_beside_it_that_agree_pass(config, tmp_path):
    config["masks"]["names"] = ["background", "car", "road"]
    assert _filled(_local(config, tmp_path, "labelmap.txt", CVAT))["colors"][1] == [250, 50, 83]


@pytest.mark.parametrize(("name", "text", "ignore", "key", "classes"), [
    ("labelmap.txt", CVAT + "void:255,255,255::\n", [255, 255, 255], "colors",
     [[0, 0, 0], [250, 50, 83], [51, 221, 255]]),
    ("labelmap.txt", CVAT + "void:255,255,255::\n", 255, "colors",  # grey 255: (255, 255, 255)
     [[0, 0, 0], [250, 50, 83], [51, 221, 255]]),
    ("_classes.csv", ROBOFLOW + "255, unlabeled\n", 255, "values", [0, 2, 1]),
])
def test_the_class_that_masks_ignore_names_is_left_out(config, tmp_path, name, text, ignore,
                                                       key, classes):
    # the export lists its 'void' class; masks.ignore says it is don't-care, not a class
    config["masks"]["ignore"] = ignore
    masks = _filled(_local(config, tmp_path, name, text))
    assert masks[key] == classes and "void" not in masks["names"] and len(masks["names"]) == 3


def test_a_labelmap_of_one_class_beside_the_ignored_one_is_refused(config, tmp_path):
    config["masks"]["ignore"] = 0
    with pytest.raises(ConfigError, match="1 class.*masks.ignore 0"):
        _filled(_local(config, tmp_path, "_classes.csv", "Pixel Value, Class\n0, void\n1, a\n"))


@pytest.mark.parametrize(("name", "text"), [
    ("labelmap.txt", "car:250,50,83::\nbackground:0,0,0::\nroad:51,221,255::\n"),
    ("_classes.csv", "Pixel Value, Class\n3, asphalt\n0, Background\n1, crack\n"),  # sorted
])
def test_background_listed_after_a_class_is_refused(config, tmp_path, name, text):
    # class 0 is background (masks.background): the first line's class would go unscored
    with pytest.raises(ConfigError, match="as class 1.*masks.background: false"):
        _filled(_local(config, tmp_path, name, text))
    config["masks"]["background"] = False  # every class an object class: the file's order
    assert _filled(config)["names"][0] in ("car", "asphalt")


def test_a_missing_file_is_refused_by_name(config, tmp_path):
    config = _local(config, tmp_path, "labelmap.txt", CVAT)
    config["masks"]["labelmap"] = "labelmap.text"
    with pytest.raises(ConfigError, match="no such file .*labelmap.text"):
        _filled(config)


def _cvat_export(root: Path) -> None:
    """Six colour masks: road (51,221,255) on top, car (250,50,83) at the bottom left."""
    for sub in ("JPEGImages", "SegmentationClass"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(6):
        rng = np.random.default_rng(i)
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(
            root / "JPEGImages" / f"f{i}.png")
        mask = np.zeros((24, 32, 3), np.uint8)
        mask[:8] = (51, 221, 255)
        mask[14:, :10 + i] = (250, 50, 83)
        Image.fromarray(mask).save(root / "SegmentationClass" / f"f{i}.png")
    (root / "labelmap.txt").write_text(CVAT)


def _planned(wd: Path) -> set[str]:
    out = snakemake(wd, "results/cvat/cache/meta.json", "--cores", "1", "--configfile", TINY,
                    "cvat.yaml", "-n", "--quiet", "rules")
    return set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "job"}


@pytest.mark.workflow
def test_the_labelmap_classes_reach_the_cache_and_only_its_content_reruns_it(tmp_path):
    data = tmp_path / "export"
    _cvat_export(data)
    wd = copy_workflow(tmp_path / "wf")
    (wd / "cvat.yaml").write_text(
        f"dataset: {{name: cvat, source: local, local: {{path: '{data}', images: JPEGImages, "
        "masks: SegmentationClass}}\nmasks: {labelmap: labelmap.txt}\n")
    snakemake(wd, "results/cvat/cache/meta.json", "--cores", "1", "--configfile", TINY,
              "cvat.yaml", "--quiet")
    meta = json.loads((wd / "results/cvat/cache/meta.json").read_text())
    # class 1 is car, as the file lists it (detection numbers road, the lower value, first)
    assert meta["class_values"] == [0, 0xFA3253, 0x33DDFF]
    assert _planned(wd) == set()
    (data / "labelmap.txt").write_text(CVAT)  # saved again, the same content: nothing reruns
    assert _planned(wd) == set()
    (data / "labelmap.txt").write_text(CVAT.replace("250,50,83", "250,50,84"))
    assert "preprocess" in _planned(wd)
