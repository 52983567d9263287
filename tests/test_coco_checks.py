"""COCO JSONs that real exports get wrong: entries missing keys (all named at once), polygons
reaching outside their image (a pixel over is clipped, mostly outside is refused)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from tests.test_coco import W, _coco, _layout
from unet.dataset.coco_checks import class_numbers, span
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError

pytest.importorskip("pycocotools.mask")


def test_every_entry_missing_a_key_is_named_at_once(tmp_path):
    """An export with many entries missing a key stopped at the first: a user fixed one and
    reran to meet the next. Each is now named (annotation id, its image file, the key), the
    first 20 listed and the rest counted, so a 100k-object export gives a short message."""
    data = _coco(tmp_path)
    del data["annotations"][1]["category_id"]
    del data["annotations"][3]["image_id"]
    del data["images"][1]["file_name"]
    text = _refused(tmp_path, data)
    assert "3 entries of ann.json lack keys" in text
    assert "annotation 2 (of a.png): no 'category_id'" in text
    assert "annotation 4: no 'image_id'" in text and "image 11: no 'file_name'" in text
    assert "export it again" in text
    data = _coco(tmp_path / "many")
    data["annotations"] = [{"id": n, "image_id": 10, "segmentation": []} for n in range(1000)]
    (tmp_path / "many" / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path / "many", _layout())
    text = str(err.value)
    assert "1000 entries" in text and "and 980 more" in text and len(text) < 2500


def _polygon(tmp_path, points, image="a.png"):
    """The COCO test set with one polygon object (annotation 1, class 2) on `image` only."""
    data = _coco(tmp_path)
    image_id = next(im["id"] for im in data["images"] if im["file_name"] == image)
    data["annotations"] = [{"id": 1, "image_id": image_id, "category_id": 7,
                            "segmentation": [points]}]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    return data


def test_a_polygon_a_pixel_outside_is_clipped_silently(tmp_path, caplog):
    """Annotation tools write vertices on or a little past the border: those are clipped."""
    _polygon(tmp_path, [-1, -1, W + 1, -1, W + 1, 5, -1, 5])
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[0:5] == 2).all() and not a[6:].any()
    # the warning's words: "outside" alone is in this test's tmp_path, which INFO lines name
    # when an earlier test (a CLI one) left the root logger at INFO
    assert "reach outside the image" not in caplog.text


def test_a_polygon_mostly_outside_its_image_is_refused(tmp_path):
    """Coordinates at another scale (here 4x: drawn on a larger copy of the image) were
    clipped without a word, leaving a corner of the object as its whole mask. Every such
    object is now refused, naming the image, the annotation and its extent vs the size."""
    _polygon(tmp_path, [40, 20, 100, 20, 100, 60, 40, 60])
    data = json.loads((tmp_path / "ann.json").read_text())
    data["annotations"].append({"id": 2, "image_id": 11, "category_id": 7,
                                "segmentation": [[12, 8, 120, 8, 120, 80, 12, 80]]})
    text = _refused(tmp_path, data)
    assert "2 masks cannot be drawn" in text
    assert "a.png: annotation 1 lies mostly outside the image" in text
    assert "x 40..100, y 20..60" in text and "30x20" in text
    assert "b.png: annotation 2" in text and "x 12..120, y 8..80" in text


def test_a_polygon_partly_outside_by_more_than_a_margin_is_clipped_with_a_warning(tmp_path,
                                                                                  caplog):
    """Mostly inside but well past an edge (a hand-dragged vertex): drawn clipped, and named."""
    caplog.set_level(logging.WARNING)
    _polygon(tmp_path, [2, 2, 20, 2, 20, 30, 2, 30])  # 10 of its 28 rows past the bottom
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    a = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert (a[2:20, 2:20] == 2).all()
    assert "a.png: annotation(s) 1 reach outside the image" in caplog.text
    assert "x 2..20, y 2..30" in caplog.text


def test_a_polygon_of_a_width_and_height_swap_says_so(tmp_path):
    """A polygon that fits the image with its sides swapped: the likely cause is named."""
    _polygon(tmp_path, [2, 21, 18, 21, 18, 29, 2, 29])  # below a 30x20 image, inside 20x30
    with pytest.raises(DataLayoutError, match=r"annotation 1 lies mostly outside.*fits 20x30"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())


def test_a_polygon_left_of_or_above_its_image_is_not_called_a_swap(tmp_path):
    """Negative coordinates (offsets from a box or the image's centre) fit any size swapped:
    the error blamed a width and height swap or an EXIF turn, a wrong lead."""
    _polygon(tmp_path, [-20, -15, -5, -15, -5, -3, -20, -3])
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    text = str(err.value)
    assert "x -20..-5, y -15..-3" in text and "swapped" not in text and "larger" not in text
    assert "negative" in text, text


def test_a_category_listed_twice_takes_one_class_number(tmp_path):
    """A category listed twice (merged exports) took two class numbers, the first unused:
    classes 1, 2 and 4, and a class 3 that no pixel has. One listed twice under two names
    is refused, naming both."""
    data = _coco(tmp_path)
    data["categories"].append({"id": 7, "name": "cell"})
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    assert manifest["class_names"] == {"0": "background", "1": "nucleus", "2": "cell"}
    data["categories"][-1]["name"] = "dead cell"
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"category 7 .*'cell' and 'dead cell'"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())


def test_one_name_under_two_ids_is_warned_of(tmp_path, caplog):
    """Exports merged from two projects list 'cell' as category 7 and again as 9: two classes
    of one name, trained apart and scored apart, without a word."""
    data = _coco(tmp_path)
    data["categories"].append({"id": 9, "name": "cell"})
    data["annotations"][2]["category_id"] = 9
    (tmp_path / "ann.json").write_text(json.dumps(data))
    caplog.set_level(logging.INFO)
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    assert manifest["class_names"] == {"0": "background", "1": "nucleus", "2": "cell",
                                       "3": "cell"}
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("categories 7 and 9 are both named 'cell'" in w and "classes 2 and 3" in w
               for w in warned), warned


def test_names_differing_only_in_case_or_spaces_are_warned_of(tmp_path, caplog):
    """Two projects' labels typed by hand ('cell' and 'Cell ') are one class to a user, yet
    passed without a word: only names equal to the letter were warned of."""
    data = _coco(tmp_path)
    data["categories"].append({"id": 9, "name": "Cell "})
    data["annotations"][2]["category_id"] = 9
    (tmp_path / "ann.json").write_text(json.dumps(data))
    caplog.set_level(logging.INFO)
    write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("categories 7 and 9 are named 'cell' and 'Cell '" in w and "classes 2 and 3" in w
               for w in warned), warned


def _refused(root, data: dict) -> str:
    """The refusal of the data set `data` as root/ann.json describes it."""
    (root / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError) as err:
        write_manifest(root / "m.json", "local", root, _layout())
    return str(err.value)


def test_numbers_as_category_names_are_no_crash(tmp_path, caplog):
    """Exporters of digit or id-named classes write "name": 1; the case-folding comparison of
    names called .split() on it, and the manifest ended in an AttributeError traceback."""
    data = _coco(tmp_path)
    for k, c in enumerate(data["categories"]):
        c["name"] = k + 1
    (tmp_path / "ann.json").write_text(json.dumps(data))
    write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout())
    assert (tmp_path / "out" / "m.json").is_file()


@pytest.mark.parametrize("spelt", [(0, 0), (0, "0"), (1.0, 1), (2.0, " 2")])
def test_one_number_as_two_categories_names_is_warned_of(tmp_path, caplog, spelt):
    """Names compared as their text missed the number 0 (falsy: left out) and wrote 1.0 (a
    float, from a table's id column) unlike 1: two categories of one name were not warned of."""
    data = {"categories": [{"id": 1, "name": spelt[0]}, {"id": 2, "name": spelt[1]},
                           {"id": 3, "name": None}, {"id": 4, "name": None}],
            "annotations": []}
    with caplog.at_level(logging.WARNING):
        class_numbers(data, tmp_path / "ann.json")
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "categories 1 and 2" in said[0]  # None: no name, not one name


def test_a_category_named_nan_is_no_crash(tmp_path, caplog):
    """A table's empty name cell, written by Python's json as NaN: NaN != NaN took the first
    listing of its id for a second name, and the check ended in KeyError '1'. NaN is no name,
    as null: two such categories are not 'both named nan'."""
    data = json.loads('{"categories": [{"id": 1, "name": NaN}, {"id": 2, "name": NaN}, '
                      '{"id": 2, "name": NaN}, {"id": 3, "name": "cell"}], "annotations": []}')
    with caplog.at_level(logging.WARNING):
        classes, _ = class_numbers(data, tmp_path / "ann.json")
    assert classes == {"1": 1, "2": 2, "3": 3}
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_one_id_listed_as_true_and_1_is_refused(tmp_path):
    """One id under two names is refused, but true == 1 (and false == 0) in Python: an id
    listed as 1 and as true passed as one name. 1 and 1.0 are one number, and still pass."""
    data = {"categories": [{"id": 1, "name": 1}, {"id": 1, "name": True}], "annotations": []}
    with pytest.raises(DataLayoutError, match="category 1 is listed as 1 and True"):
        class_numbers(data, tmp_path / "ann.json")
    data["categories"][1]["name"] = 1.0
    assert class_numbers(data, tmp_path / "ann.json")[0] == {"1": 1}



@pytest.mark.parametrize("extent", [(-0.0, 10.0, -0.0, 500.0), (0, 10, 0, 500)])
def test_an_extent_is_shown_without_negative_zero(extent):
    """A vertex rounded by its tool from -0.04 is -0.0 in the JSON, and its extent read
    'x -0..10': zero is shown as 0, floats and integers alike."""
    assert span(extent) == "x 0..10, y 0..500"


def test_names_written_as_lists_or_objects_are_compared_not_crashed_on(tmp_path, caplog):
    from unet.dataset.coco_checks import _as_given, _same_names
    assert _as_given({"b": 1, "a": 2}) == _as_given({"a": 2, "b": 1})  # one object, keys reordered
    with caplog.at_level(logging.WARNING):  # a TypeError (unhashable list) before
        _same_names({"1": 1, "2": 2}, {"1": ["cell"], "2": ["cell"]}, tmp_path / "a.json")
    assert "both named ['cell']" in caplog.text


def test_a_byte_not_utf8_in_the_json_is_named_at_its_line(tmp_path):
    """A JSON saved in the Windows code page was named by its byte offset alone, where the
    CSV and config refusals give the line to go to."""
    data = _coco(tmp_path)
    text = json.dumps(data, indent=1).replace('"cell"', '"c\xe9ll"')
    (tmp_path / "ann.json").write_bytes(text.encode("cp1252"))
    line = text[: text.index("c\xe9ll")].count("\n") + 1
    with pytest.raises(DataLayoutError, match=rf"ann\.json is not valid JSON \(byte 0xe9 on "
                                              rf"line {line} is not UTF-8"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
