"""COCO JSONs as exporters other than COCO's own write them: Windows paths, flat polygons,
entries without a size, LIVECell's annotations keyed by id, and files that do not parse."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from tests.test_coco import H, W, _coco, _layout
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError

pytest.importorskip("pycocotools.mask")


def test_file_names_written_on_windows_are_found(tmp_path):
    """A converter run on Windows writes 'A172\\a.png' (or a whole 'C:\\...' path): one name
    on Linux, so the image was refused as missing, recursive or not."""
    data = _coco(tmp_path)
    (tmp_path / "imgs" / "A172").mkdir()
    (tmp_path / "imgs" / "a.png").rename(tmp_path / "imgs" / "A172" / "a.png")
    data["images"][0]["file_name"] = "A172\\a.png"
    data["images"][1]["file_name"] = "C:\\Users\\me\\data\\b.png"
    (tmp_path / "ann.json").write_text(json.dumps(data))
    for recursive in (False, True):  # another machine's whole path: its name, as VIA's
        manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                                  _layout(recursive=recursive))
        assert [p["image"].split("/")[-2:] for p in manifest["pairs"]] == [
            ["A172", "a.png"], ["imgs", "b.png"]]

def test_a_json_that_does_not_parse_is_named(tmp_path):
    """A cut-off or hand-edited JSON (or one not in UTF-8) gave a bare JSONDecodeError or
    UnicodeDecodeError, naming no file."""
    _coco(tmp_path)
    text = (tmp_path / "ann.json").read_text()
    (tmp_path / "ann.json").write_text(text, encoding="utf-8-sig")  # a BOM is fine
    write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    (tmp_path / "ann.json").write_text(text[:100])
    with pytest.raises(DataLayoutError, match=r"ann\.json is not valid JSON .*line 1"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    (tmp_path / "ann.json").write_bytes(text.replace("cell", "c\xe9ll").encode("cp1252"))
    with pytest.raises(DataLayoutError, match=r"ann\.json is not valid JSON .*UTF-8"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())

def test_a_polygon_given_flat_is_drawn(tmp_path, caplog):
    """Some converters write one polygon as a flat [x, y, ...] instead of [[x, y, ...]]: each
    such object was left out as having no shape ("boxes only")."""
    data = _coco(tmp_path)
    data["annotations"] = [{**data["annotations"][0], "segmentation": [3, 2, 15, 2, 15, 12, 3, 12]}]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[2:12, 3:15] == 2).all() and a.sum() == 2 * 120 and "no shape" not in caplog.text

def test_images_listed_without_a_size_take_their_files_size(tmp_path):
    """An image entry without 'width' and 'height' (hand-made or minimal exports) gave a bare
    KeyError; the image file's own size is now used."""
    data = _coco(tmp_path)
    for im in data["images"]:
        del im["width"], im["height"]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert a.shape == (H, W) and (a[5:8, 7:10] == 1).all()

def test_entries_missing_a_key_are_named(tmp_path):
    """An entry without a key COCO requires (or a JSON that is a list, as some tools' own
    formats are) gave a bare KeyError or TypeError."""
    data = _coco(tmp_path)
    del data["annotations"][1]["category_id"]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError,
                       match=r"ann\.json: annotation 2 \(of a\.png\) has no 'category_id'"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    (tmp_path / "ann.json").write_text(json.dumps([data]))
    with pytest.raises(DataLayoutError, match=r"ann\.json has no 'images' list"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())

def test_livecell_s_annotations_keyed_by_id_are_read(tmp_path):
    """LIVECell's JSONs hold 'annotations' as an object keyed by annotation id, not a list
    (pycocotools itself fails on them): iterating it gave a bare TypeError."""
    data = _coco(tmp_path)
    data["annotations"] = {str(a["id"]): a for a in data["annotations"]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[5:8, 7:10] == 1).all() and a[3, 4] == 2


def test_category_ids_pair_as_numbers_or_strings(tmp_path):
    """Category ids written as numbers in 'categories' and as strings in 'annotations' were
    refused as categories 'categories' does not list, naming the same id."""
    data = _coco(tmp_path)
    for a in data["annotations"]:
        a["category_id"] = str(a["category_id"])
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[5:8, 7:10] == 1).all() and a[3, 4] == 2
    assert manifest["class_names"] == {"0": "background", "1": "nucleus", "2": "cell"}


def test_roboflow_s_workspace_category_is_not_a_class(tmp_path, caplog):
    """Roboflow lists a category 0 named after the workspace (supercategory 'none'), the
    supercategory of every other one and of no object: it was class 1, never drawn, and moved
    crack and spall to classes 2 and 3 in the masks, the metrics and the report."""
    from tests.test_coco import _roboflow
    from unet.dataset.layout import Layout

    cats = [{"id": 0, "name": "cracks-ws", "supercategory": "none"},
            {"id": 1, "name": "crack", "supercategory": "cracks-ws"},
            {"id": 2, "name": "spall", "supercategory": "cracks-ws"}]
    _roboflow(tmp_path, categories=[cats] * 3)
    layout = Layout(images="{group}", coco=(("json", "{group}/_annotations.coco.json"),))
    caplog.set_level(logging.INFO)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    assert manifest["class_names"] == {"0": "background", "1": "crack", "2": "spall"}
    values = {int(v) for p in manifest["pairs"] for v in np.unique(Image.open(p["mask"]))}
    assert values == {0, 1, 2} and "'cracks-ws'" in caplog.text
    from unet.dataset.coco_checks import umbrella

    # other lists number as before: no umbrella without other categories under it
    assert umbrella(cats[:1]) is None and umbrella([{"id": 1}, {"id": 2}]) is None
    assert umbrella([{**cats[0]}, {**cats[1], "supercategory": "none"}]) is None
    data = json.loads((tmp_path / "valid" / "_annotations.coco.json").read_text())
    data["annotations"][0]["category_id"] = 0  # an object of the umbrella: refused
    (tmp_path / "valid" / "_annotations.coco.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"valid/_annotations.coco.json: annotation\(s\) "
                       r"0 are of category 0 \('cracks-ws'\).*supercategory"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)


def test_images_without_objects_are_counted_and_named(tmp_path, caplog):
    """CVAT's COCO export lists every frame of a task, annotated or not: the frames nobody
    annotated became all-background masks without a word, teaching that their objects are
    background. They are now counted and named by id (as split.exclude_ids takes them)."""
    _coco(tmp_path, images=("a.png", "b.png", "c.png"))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    assert len(manifest["pairs"]) == 3  # still used: an image may truly hold no object
    assert "2 of 3 images" in caplog.text and "b, c (2 in all)" in caplog.text
    assert "split.exclude_ids" in caplog.text


def _two_below(root, subs=("s1", "s2")):
    """imgs/<sub>/a.png for each of `subs`, each of its own grey (which one was drawn on)."""
    data = _coco(root, images=("a.png",))
    for n, sub in enumerate(subs):
        (root / "imgs" / sub).mkdir(parents=True)
        Image.fromarray(np.full((H, W), 50 * (n + 1), np.uint8)).save(root / "imgs" / sub / "a.png")
    (root / "imgs" / "a.png").unlink()
    return data


def test_a_name_two_subfolders_hold_is_refused_or_told_apart_by_its_path(tmp_path):
    """With recursive, a file_name whose name two subfolders hold (s1/a.png, s2/a.png) took
    whichever was listed last, drawing one image's objects onto the other without a word."""
    data = _two_below(tmp_path)
    with pytest.raises(DataLayoutError, match=r"'a\.png' names 2 images below .*imgs: "
                       r".*imgs/s1/a\.png, .*imgs/s2/a\.png; write its subfolder"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(recursive=True))
    for written in (r"D:\scans\imgs\s1\a.png", "/home/me/s1/a.png", "s1/a.png"):
        data["images"][0]["file_name"] = written  # another machine's path, or a relative one
        (tmp_path / "ann.json").write_text(json.dumps(data))
        manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                                  _layout(recursive=True))
        assert [p["image"] for p in manifest["pairs"]] == [str(tmp_path / "imgs/s1/a.png")]


def test_a_relative_file_name_finds_the_image_whose_path_ends_it(tmp_path):
    """COCO's own file_name 'train2017/a.png' with images: the folder above (coco/train2017/,
    coco/val2017/) took val2017/a.png, the last of that name, for train2017's image."""
    data = _two_below(tmp_path, ("coco/train2017", "coco/val2017"))
    data["images"][0]["file_name"] = "train2017/a.png"
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(recursive=True))
    assert [p["image"] for p in manifest["pairs"]] == [str(tmp_path / "imgs/coco/train2017/a.png")]
    assert np.asarray(Image.open(manifest["pairs"][0]["image"])).max() == 50


def test_a_folder_in_every_file_name_lists_the_images_folder_once(tmp_path, monkeypatch):
    """Label Studio writes 'images/a.png' with images: images: each such file_name listed the
    whole images folder again, for its Unicode spelling: 8000 images took 23 s, COCO's 118k
    hours. The finder lists the folder once however many images the JSON names."""
    import os

    names = [f"{k:03d}.png" for k in range(12)]
    data = _coco(tmp_path, images=("a.png", "b.png", *names))
    for im in data["images"]:
        im["file_name"] = f"images/{im['file_name']}"
    (tmp_path / "ann.json").write_text(json.dumps(data))
    listed, real = [], os.listdir
    monkeypatch.setattr(os, "listdir", lambda p=".": listed.append(str(p)) or real(p))
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    assert len(manifest["pairs"]) == 14
    assert listed.count(str(tmp_path / "imgs")) <= 2, listed  # the finder's, files_with's


def test_this_machines_whole_path_into_a_subfolder_is_found(tmp_path):
    """A converter that writes each image's whole path (str(path)) into file_name, images in
    subfolders (imgs/A172/a.png): found before 6fffbd3, then refused as missing unless
    recursive, as only its last part was looked for, in the images folder itself."""
    data = _coco(tmp_path)
    (tmp_path / "imgs" / "A172").mkdir()
    (tmp_path / "imgs" / "a.png").rename(tmp_path / "imgs" / "A172" / "a.png")
    data["images"][0]["file_name"] = str(tmp_path / "imgs" / "A172" / "a.png")
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    assert [p["image"].split("/")[-2:] for p in manifest["pairs"]] == [
        ["A172", "a.png"], ["imgs", "b.png"]]
