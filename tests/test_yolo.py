"""Masks from Ultralytics YOLO segmentation labels (a .txt per image of normalised polygons,
class names in data.yaml), drawn into palette PNGs of class numbers when the manifest is
written."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files, layout_from
from unet.dataset.layout_kinds import layout_modules

H, W = 20, 40


def _image(root, stem, group="train"):
    (root / "images" / group).mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "images" / group / f"{stem}.jpg")


def _labels(root, stem, text, group="train"):
    (root / "labels" / group).mkdir(parents=True, exist_ok=True)
    (root / "labels" / group / f"{stem}.txt").write_bytes(text.encode())


def _layout(grouped=False, names="data.yaml", **kw):
    images = "images/{group}" if grouped else "images/train"
    labels = "labels/{group}/{id}.txt" if grouped else "labels/train/{id}.txt"
    return Layout(images=images, yolo=(("labels", labels), ("names", names)), **kw)


def _masks(tmp_path, layout=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path,
                              layout or _layout())
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def test_polygons_filled_at_pixel_centres_in_file_order_classes_from_names(tmp_path):
    (tmp_path / "data.yaml").write_text("nc: 3\nnames: ['road', 'car', 'tree']\n")
    _image(tmp_path, "a")
    # road over the top half (x 0..40, y 0..10), then a car over it: later wins
    _labels(tmp_path, "a", "0 0 0 1 0 1 0.5 0 0.5\r\n1 0.25 0.25 0.5 0.25 0.5 0.75 0.25 0.75  \r\n")
    _image(tmp_path, "b")  # no .txt: all background (YOLO's own convention)
    _image(tmp_path, "c")
    _labels(tmp_path, "c", "")  # empty: all background too
    manifest, masks = _masks(tmp_path)
    assert sorted(masks) == ["a", "b", "c"]
    a = masks["a"]
    assert a.shape == (H, W)
    assert (a[:10, :10] == 1).all() and (a[:5, 10:20] == 1).all()  # road (class 0 -> 1)
    assert (a[5:15, 10:20] == 2).all()  # car (class 1 -> 2), drawn over the road
    assert (a[15:, :] == 0).all() and (a[10:, :10] == 0).all()
    assert masks["b"].max() == 0 and masks["c"].max() == 0
    assert manifest["class_names"] == {"0": "background", "1": "road", "2": "car", "3": "tree"}


def test_pixel_counted_when_its_centre_lies_inside(tmp_path):
    # x from 0.1 to 0.3 of 40 px: 4.0..12.0 covers centres 4.5..11.5 (columns 4-11);
    # y from 0.26 to 0.74 of 20 px: 5.2..14.8 covers centres 5.5..14.5 (rows 5-14)
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 0.1 0.26 0.3 0.26 0.3 0.74 0.1 0.74\n")
    _, masks = _masks(tmp_path)
    rows, cols = np.nonzero(masks["a"])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 14, 4, 11)


def test_names_as_a_dict_or_missing(tmp_path, caplog):
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "2 0 0 1 0 1 1\n")
    (tmp_path / "data.yaml").write_text("names:\n  0: person\n  1: bike\n  2: dog\n")
    manifest, _ = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "person", "2": "bike", "3": "dog"}
    (tmp_path / "data.yaml").unlink()
    caplog.set_level(logging.WARNING)
    manifest, masks = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "class_0", "2": "class_1",
                                       "3": "class_2"}
    assert masks["a"].max() == 3
    assert "data.yaml" in caplog.text and "class_0" in caplog.text


def test_group_folders_give_split_ids(tmp_path):
    (tmp_path / "data.yaml").write_text("names: [crack]\n")
    for group in ("train", "val", "test"):
        _image(tmp_path, "a", group)
        _labels(tmp_path, "a", "0 0 0 1 0 1 1\n", group)
    _image(tmp_path, "b", "test")  # no label: background
    manifest, masks = _masks(tmp_path, _layout(grouped=True))
    assert sorted(masks) == ["test_a", "test_b", "train_a", "val_a"]
    assert masks["val_a"].max() == 1 and masks["test_b"].max() == 0


def test_bad_lines_refused_naming_file_and_line(tmp_path):
    (tmp_path / "data.yaml").write_text("names: [a, b]\n")
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 0 0 1 0 1 1\n5 0 0 1 0 1 1\n")
    with pytest.raises(DataLayoutError, match=r"a\.txt.*line 2.*5.*names"):
        _masks(tmp_path)
    _labels(tmp_path, "a", "0 0 0 nan 0 1 1\n")
    with pytest.raises(DataLayoutError, match=r"a\.txt.*line 1.*not a number"):
        _masks(tmp_path)
    _labels(tmp_path, "a", "0 0 0 1 0 1\n")  # an odd count of coordinates
    with pytest.raises(DataLayoutError, match=r"a\.txt.*line 1"):
        _masks(tmp_path)
    _labels(tmp_path, "a", "0 0 0 312 0 312 20\n")  # pixels, not normalised
    with pytest.raises(DataLayoutError, match=r"a\.txt.*line 1.*normalised"):
        _masks(tmp_path)


def test_slightly_outside_clipped(tmp_path):
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 -0.001 -0.001 1.001 -0.001 1.001 1.001 -0.001 1.001\n")
    _, masks = _masks(tmp_path)
    assert (masks["a"] == 1).all()


def test_boxes_only_refused_as_detection_mixed_drawn(tmp_path, caplog):
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 0.5 0.5 0.5 0.5\n")
    with pytest.raises(DataLayoutError, match=r"detection.*a\.txt"):
        _masks(tmp_path)
    _image(tmp_path, "b")
    _labels(tmp_path, "b", "0 0 0 1 0 1 1\n")
    caplog.set_level(logging.WARNING)
    _, masks = _masks(tmp_path)
    rows, cols = np.nonzero(masks["a"])  # the box's rectangle: x 10..30, y 5..15
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 14, 10, 29)
    assert "box" in caplog.text and "a.txt" in caplog.text


def test_label_without_image_refused(tmp_path):
    _image(tmp_path, "a")
    _labels(tmp_path, "zz", "0 0 0 1 0 1 1\n")
    with pytest.raises(DataLayoutError, match=r"zz\.txt"):
        _masks(tmp_path)


def test_layout_from_config_modules_and_data_files(tmp_path):
    settings = {"images": "images/train", "yolo": {"labels": "labels/train/{id}.txt",
                                                   "names": "data.yaml"}}
    layout = layout_from(settings, "local")
    assert dict(layout.yolo)["labels"] == "labels/train/{id}.txt"
    assert "dataset.yolo" in layout_modules(layout)
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 0 0 1 0 1 1\n")
    (tmp_path / "data.yaml").write_text("names: [a]\n")
    found = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, layout)}
    assert found == {"images/train/a.jpg", "labels/train/a.txt", "data.yaml"}


@pytest.mark.parametrize(("images", "labels", "said"), [
    ("images/train", "labels/train/a.txt", "no {id}"),
    ("images/{group}", "labels/train/{id}.txt", "no {group}")])
def test_labels_template_refused_before_any_job(tmp_path, images, labels, said):
    from unet.config.checks import ConfigError, check_data

    local = {"path": str(tmp_path), "images": images, "yolo": {"labels": labels}}
    with pytest.raises(ConfigError, match=f"yolo.labels.*{said}"):
        check_data({"dataset": {"source": "local", "local": local}, "masks": {"values": None}})


def test_no_image_refused_naming_the_folder(tmp_path):
    (tmp_path / "images" / "train").mkdir(parents=True)
    with pytest.raises(DataLayoutError, match=r"no image.*images/train"):
        _masks(tmp_path)


def test_recursive_labels_mirror_the_image_subfolders(tmp_path):
    # Ultralytics reads images/train/s1/a.jpg's objects from labels/train/s1/a.txt; they were
    # looked for in labels/train/ alone, so every nested image came out all background
    for stem in ("s1/a", "s2/deep/b", "c"):
        for folder, name in (("images", f"{stem}.jpg"), ("labels", f"{stem}.txt")):
            (tmp_path / folder / "train" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / f"images/train/{stem}.jpg")
        (tmp_path / f"labels/train/{stem}.txt").write_text("0 0 0 1 0 1 1\n")
    layout = _layout(recursive=True)
    _, masks = _masks(tmp_path, layout)
    assert {k: int(m.max()) for k, m in masks.items()} == {"a": 1, "b": 1, "c": 1}
    # a nested label file edited must make the data set stale: it is one of its inputs
    found = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, layout)}
    assert {"labels/train/s1/a.txt", "labels/train/s2/deep/b.txt", "labels/train/c.txt"} <= found
    (tmp_path / "labels/train/s1/zz.txt").write_text("0 0 0 1 0 1 1\n")  # its image is gone
    with pytest.raises(DataLayoutError, match=r"zz\.txt"):
        _masks(tmp_path, layout)


def test_coordinate_out_of_range_is_the_one_named(tmp_path):
    # the message gave the line's largest coordinate (0.9) for a -0.4 that was out of range
    _image(tmp_path, "a")
    _labels(tmp_path, "a", "0 -0.4 0 0.9 0 0.9 0.5\n")
    with pytest.raises(DataLayoutError, match=r"line 1: coordinate -0\.4 "):
        _masks(tmp_path)


def test_nested_group_ids_join_the_folders_with_underscores(tmp_path):
    # {group} over Train/Urban gave ids 'Train/Urban_1' (a '/' in an id: its cached files and
    # masks went into subfolders), where every other layout names it Train_Urban_1
    (tmp_path / "data.yaml").write_text("names: [building]\n")
    for group in ("Train/Urban", "Val/Rural"):
        (tmp_path / group / "images").mkdir(parents=True)
        (tmp_path / group / "labels").mkdir(parents=True)
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / group / "images/1.jpg")
        (tmp_path / group / "labels/1.txt").write_text("0 0 0 1 0 1 1\n")
    layout = Layout(images="{group}/images",
                    yolo=(("labels", "{group}/labels/{id}.txt"), ("names", "data.yaml")))
    _, masks = _masks(tmp_path, layout)
    assert {k: int(m.max()) for k, m in masks.items()} == {"Train_Urban_1": 1, "Val_Rural_1": 1}
    found = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, layout)}
    assert {"Train/Urban/labels/1.txt", "Val/Rural/labels/1.txt"} <= found


def test_a_labels_folder_that_is_not_there_is_refused_not_all_background(tmp_path):
    # a mistyped yolo.labels read every image as all background, with a warning alone
    _image(tmp_path, "a")
    with pytest.raises(DataLayoutError, match=r"yolo\.labels '[^']+': no folder"):
        _masks(tmp_path)
