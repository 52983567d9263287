"""Masks as COCO annotations (polygons and run-length encodings in one JSON), drawn into
palette PNGs of class numbers when the manifest is written."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files

mask_api = pytest.importorskip("pycocotools.mask")

H, W = 20, 30


def _coco(root, images=("a.png", "b.png"), extra=()):
    """Cells (category 7) and a nucleus (category 3) lying on one; b.png has no object."""
    (root / "imgs").mkdir(parents=True)
    for name in (*images, *extra):
        Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "imgs" / name)
    cell = np.zeros((H, W), np.uint8)
    cell[2:12, 3:15] = 1
    crowd = np.zeros((H, W), np.uint8)
    crowd[14:18, 20:28] = 1
    compressed = mask_api.encode(np.asfortranarray(crowd))
    compressed["counts"] = compressed["counts"].decode()
    corner = np.zeros((H, W), np.uint8)
    corner[0:2, 25:30] = 1
    flat = np.concatenate([[0], corner.T.reshape(-1), [1 - corner.T.reshape(-1)[-1]]])
    edges = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate([[1], edges, [H * W + 1]])).tolist()  # zeros, ones, ...
    annotations = [
        {"id": 1, "image_id": 10, "category_id": 7, "area": 120.0, "iscrowd": 0,
         "segmentation": [[3, 2, 15, 2, 15, 12, 3, 12]]},  # polygon x, y: the cell's corners
        {"id": 2, "image_id": 10, "category_id": 3, "area": 16.0, "iscrowd": 0,
         "segmentation": [[6, 4, 10, 4, 10, 8, 6, 8]]},  # a nucleus on the cell
        {"id": 3, "image_id": 10, "category_id": 7, "area": 32.0, "iscrowd": 1,
         "segmentation": compressed},
        {"id": 4, "image_id": 10, "category_id": 3, "area": 10.0, "iscrowd": 1,
         "segmentation": {"size": [H, W], "counts": counts}},  # uncompressed
    ]
    data = {"images": [{"id": 10 + i, "file_name": n, "width": W, "height": H}
                       for i, n in enumerate(images)],
            "categories": [{"id": 7, "name": "cell"}, {"id": 3, "name": "nucleus"}],
            "annotations": annotations}
    (root / "ann.json").write_text(json.dumps(data))
    return data


def _layout(**kw):
    return Layout(images="imgs", coco=(("json", "ann.json"),), **kw)


def test_objects_become_class_numbers_small_ones_on_top(tmp_path, caplog):
    _coco(tmp_path, extra=("unlisted.png",))
    caplog.set_level(logging.INFO)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    masks = {p["id"]: Image.open(p["mask"]) for p in manifest["pairs"]}
    assert sorted(masks) == ["a", "b"] and {m.mode for m in masks.values()} == {"P"}
    a = np.asarray(masks["a"])
    # category ids 3 < 7: nucleus = class 1, cell = class 2
    assert "1 = nucleus, 2 = cell" in caplog.text
    assert (a[5:8, 7:10] == 1).all() and a[3, 4] == 2 and (a[14:18, 20:28] == 2).all()
    assert (a[0:2, 25:30] == 1).all() and a[2, 25] == 0
    assert a[0, 0] == 0 and not np.asarray(masks["b"]).any()
    assert "unlisted.png" in caplog.text  # on disk, not in the JSON: named, not used
    assert tmp_path / "ann.json" in data_files(tmp_path, _layout())
    assert manifest["class_names"] == {"0": "background", "1": "nucleus", "2": "cell"}


def test_listed_images_that_are_missing_or_of_another_size_are_named(tmp_path):
    _coco(tmp_path, images=("a.png", "b.png", "gone.png"))
    (tmp_path / "imgs" / "gone.png").unlink()
    with pytest.raises(DataLayoutError, match=r"not in .*imgs: gone\.png.*allow_unpaired"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    Image.fromarray(np.zeros((H, W + 1), np.uint8)).save(tmp_path / "imgs" / "a.png")
    with pytest.raises(DataLayoutError, match=r"a\.png is 31x20 but ann\.json gives 30x20"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(allow_unpaired=True))


def test_file_names_are_found_in_subfolders_with_recursive(tmp_path):
    _coco(tmp_path)
    (tmp_path / "imgs" / "A172").mkdir()
    (tmp_path / "imgs" / "a.png").rename(tmp_path / "imgs" / "A172" / "a.png")
    with pytest.raises(DataLayoutError, match=r"not in .*imgs: a\.png"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(recursive=True))
    assert [p["image"].split("/")[-2:] for p in manifest["pairs"]] == [
        ["A172", "a.png"], ["imgs", "b.png"]]
