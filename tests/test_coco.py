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



def _roboflow(root, parts=("train", "valid", "test"), categories=None):
    """Roboflow's COCO export: train/, valid/ and test/, each holding its images and its own
    _annotations.coco.json (image ids and file names repeat from one part to the next)."""
    for k, part in enumerate(parts):
        folder = root / part
        folder.mkdir(parents=True)
        images = [f"img{i}.jpg" for i in range(3)]
        for name in images:
            Image.fromarray(np.full((H, W, 3), 40 * k, np.uint8)).save(folder / name)
        cats = categories[k] if categories else [{"id": 1, "name": "crack"},
                                                 {"id": 2, "name": "spall"}]
        data = {"images": [{"id": i, "file_name": n, "width": W, "height": H}
                           for i, n in enumerate(images)],
                "categories": cats,
                "annotations": [{"id": i, "image_id": i, "category_id": 1 + i % 2, "area": 40.0,
                                 "iscrowd": 0, "segmentation": [[2, 2, 12, 2, 12, 6, 2, 6]]}
                                for i in range(3)]}
        (folder / "_annotations.coco.json").write_text(json.dumps(data))


def test_a_coco_json_per_group_pairs_each_part(tmp_path):
    from unet.dataset.pairing import pair_files

    _roboflow(tmp_path)
    layout = Layout(images="{group}", coco=(("json", "{group}/_annotations.coco.json"),))
    pairs = pair_files(tmp_path, layout)
    assert [p[0] for p in pairs] == [f"{g}_img{i}" for g in ("test", "train", "valid")
                                     for i in range(3)]
    assert all(p[1].parent.name == p[0].split("_")[0] for p in pairs)  # each part's own image
    assert {p[2].json.parent.name for p in pairs} == {"train", "valid", "test"}
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    assert manifest["class_names"] == {"0": "background", "1": "crack", "2": "spall"}
    assert len(manifest["pairs"]) == 9


def test_groups_whose_categories_differ_are_refused(tmp_path):
    from unet.dataset.pairing import pair_files

    crack, spall = {"id": 1, "name": "crack"}, {"id": 2, "name": "spall"}
    swapped = [{"id": 1, "name": "spall"}, {"id": 2, "name": "crack"}]
    _roboflow(tmp_path, ("train", "valid"), [[crack, spall], swapped])
    layout = Layout(images="{group}", coco=(("json", "{group}/_annotations.coco.json"),))
    with pytest.raises(DataLayoutError, match=r"valid/_annotations.coco.json.*categories.*"
                                              r"train/_annotations.coco.json"):
        pair_files(tmp_path, layout)


def test_every_part_and_its_json_are_inputs_of_the_data_set(tmp_path):
    # The workflow reruns the data set when these change: with {group}, only the first part's
    # images and no JSON at all were listed.
    _roboflow(tmp_path)
    layout = Layout(images="{group}", coco=(("json", "{group}/_annotations.coco.json"),))
    files = data_files(tmp_path, layout)
    assert sorted({f.parent.name for f in files}) == ["test", "train", "valid"]
    assert sum(f.name == "_annotations.coco.json" for f in files) == 3
    assert sum(f.suffix == ".jpg" for f in files) == 9


def test_objects_without_a_shape_are_skipped_and_bad_encodings_named(tmp_path, caplog):
    """A bounding-box-only object (segmentation []) and a two-point polygon (which pycocotools
    reads as a box) gave bare IndexErrors or wrong boxes; a run-length encoding of another
    size than its image gave an IndexError naming nothing."""
    data = _coco(tmp_path)
    data["annotations"] += [
        {"id": 5, "image_id": 10, "category_id": 7, "area": 0.0, "iscrowd": 0,
         "segmentation": []},
        {"id": 6, "image_id": 10, "category_id": 3, "area": 0.0, "iscrowd": 0,
         "segmentation": [[1, 1, 5, 5]]},
    ]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert a[1:6, 1:3].sum() == 0  # no box drawn for the two-point polygon (left of the cell)
    assert "2 objects" in caplog.text and "no shape" in caplog.text
    data["annotations"][2]["segmentation"]["size"] = [H + 1, W]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"ann\.json: an object of a\.png .*21x30.*20x30"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())


def test_run_length_encodings_must_cover_their_size(tmp_path):
    """pycocotools decodes an encoding whose counts cover fewer pixels than its size into a
    buffer it never cleared: 15 of 600 pixels encoded gave 478 random foreground pixels
    (30359 summed), silently. Such an encoding, compressed or not, is now refused by name."""
    data = _coco(tmp_path)
    short = {"size": [H, W], "counts": [10, 5]}  # 15 of the 600 pixels
    data["annotations"][3]["segmentation"] = short
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"a\.png .*annotation 4.* 15 pixels.* 600"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    data["annotations"][3]["segmentation"] = {"size": [H, W], "counts": ":5"}  # same, compressed
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"a\.png .*annotation 4.* 15 pixels.* 600"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())


def test_compressed_encodings_decode_as_pycocotools_writes_them(tmp_path):
    """Compressed counts (with their differences to the count two back) read back exactly."""
    from unet.dataset.coco import _shape

    rng = np.random.default_rng(0)
    for _ in range(20):
        m = (rng.random((H, W)) < rng.random()).astype(np.uint8)
        m[rng.integers(H), :] = 1
        rle = mask_api.encode(np.asfortranarray(m))
        rle["counts"] = rle["counts"].decode()
        assert (_shape(rle, H, W) == m.astype(bool)).all()


def test_image_ids_pair_as_numbers_or_strings_and_stray_objects_are_named(tmp_path, caplog):
    """An export that writes image ids as strings in 'images' and as numbers in 'annotations'
    (or the other way) paired no object with its image: every mask came out empty without a
    word, as did objects of an image id that 'images' does not list."""
    data = _coco(tmp_path)
    for im in data["images"]:
        im["id"] = str(im["id"])
    data["annotations"].append({**data["annotations"][0], "id": 9, "image_id": 99})
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[2:12, 3:15] > 0).all()
    assert "1 objects of ann.json belong to image ids that its 'images' does not list" \
        in caplog.text and "99" in caplog.text


def test_small_objects_stay_on_top_without_an_area_in_the_json(tmp_path):
    """Objects were ordered by the JSON's 'area', which many converters leave out (or give as
    0): a nucleus listed before the cell it lies on was then drawn under it and lost. They are
    now ordered by the pixels each covers."""
    data = _coco(tmp_path)
    data["annotations"] = data["annotations"][1::-1]  # the nucleus first, then its cell
    for a in data["annotations"]:
        del a["area"]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[4:8, 6:10] == 1).all() and (a[2:4, 3:15] == 2).all() and a[8, 5] == 2


def test_a_size_of_the_stored_pixels_names_the_exif_orientation(tmp_path):
    """A photo stored 8x6 with EXIF orientation 6 is 6x8 as shown (the size every step uses);
    a JSON made on the stored pixels gives 8x6 and was refused as '6x8 but gives 8x6', with
    no word of the orientation that turns it, though `file` and `identify` print 8x6."""
    (tmp_path / "imgs").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "imgs" / "a.jpg", exif=exif)
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 6}],
            "categories": [{"id": 1, "name": "x"}], "annotations": []}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    layout = Layout(images="imgs", coco=(("json", "ann.json"),))
    with pytest.raises(DataLayoutError, match=r"a\.jpg is 6x8 as shown.*EXIF orientation 6 "
                       r"turns its stored 8x6.*exiftool -Orientation=1 -n") as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)
    assert "swap width and height in ann.json" in str(err.value)
    data["images"][0].update(width=6, height=8)  # the size as shown: drawn on the photo
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path, layout)
    assert manifest["pairs"][0]["size"] == [6, 8]
