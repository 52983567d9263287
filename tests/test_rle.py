"""Masks as run-length encodings in a CSV (Kaggle's Airbus ships, Severstal defects):
decoded into mask files when the manifest is written."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files
from unet.dataset.rle import decode

H, W = 6, 8
RLE = {"csv": "train.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
       "class_column": None, "order": "columns", "absent": "unpaired"}


def encode(mask: np.ndarray, order: str) -> str:
    """The reference encoding: 1-based starts and lengths of the runs of True."""
    flat = (mask.T if order == "columns" else mask).reshape(-1)
    padded = np.concatenate([[0], flat.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[::2] + 1, edges[1::2] + 1
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends, strict=True))


@pytest.mark.parametrize("order", ["columns", "rows"])
def test_decode_undoes_the_encoding(order):
    mask = np.random.default_rng(0).random((H, W)) > 0.6
    assert np.array_equal(decode(encode(mask, order), (W, H), order), mask)
    assert not decode("", (W, H), order).any()  # no object


def test_columns_count_down_first():
    assert np.flatnonzero(decode("2 2", (W, H), "columns").T.reshape(-1)).tolist() == [1, 2]
    assert decode("2 2", (W, H), "columns")[1:3, 0].all()  # rows 1-2 of column 0
    assert decode("2 2", (W, H), "rows")[0, 1:3].all()  # columns 1-2 of row 0


def _airbus(root, rows, names=("a.jpg", "b.jpg", "c.jpg"), extra_cols=()):
    (root / "train").mkdir(parents=True)
    for n in names:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "train" / n)
    with open(root / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ImageId", "EncodedPixels", *extra_cols])
        w.writerows(rows)


def test_one_row_per_object_unites_and_an_empty_one_is_no_object(tmp_path):
    ship1, ship2 = np.zeros((H, W), bool), np.zeros((H, W), bool)
    ship1[1:3, 1:4], ship2[4:6, 5:8] = True, True
    _airbus(tmp_path, [("a.jpg", encode(ship1, "columns")), ("a.jpg", encode(ship2, "columns")),
                       ("b.jpg", ""), ("c.jpg", encode(ship2, "columns"))])
    layout = Layout(images="train", rle=tuple(sorted(RLE.items())))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    masks = {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}
    assert np.array_equal(masks["a"], (ship1 | ship2) * 255)
    assert not masks["b"].any() and np.array_equal(masks["c"], ship2 * 255)
    assert (tmp_path / "train.csv") in data_files(tmp_path, layout)  # an edit reruns


def test_a_class_column_gives_class_numbers_and_absent_images_may_be_empty(tmp_path):
    scratch, dent = np.zeros((H, W), bool), np.zeros((H, W), bool)
    scratch[0, :], dent[3:5, 2:4] = True, True
    _airbus(tmp_path, [("a.jpg", encode(scratch, "columns"), "1"),
                       ("a.jpg", encode(dent, "columns"), "3")], extra_cols=("ClassId",))
    rle = {**RLE, "class_column": "ClassId"}
    with pytest.raises(DataLayoutError, match=r"images the CSV does not name: b\.jpg, c\.jpg"):
        write_manifest(tmp_path / "m.json", "local", tmp_path,
                       Layout(images="train", rle=tuple(sorted(rle.items()))))
    layout = Layout(images="train", rle=tuple(sorted({**rle, "absent": "empty"}.items())))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    masks = {p["id"]: Image.open(p["mask"]) for p in manifest["pairs"]}
    assert {m.mode for m in masks.values()} == {"P"}  # one palette: class numbers alike
    expected = np.where(dent, 3, np.where(scratch, 1, 0))
    assert np.array_equal(np.asarray(masks["a"]), expected)
    assert not np.asarray(masks["b"]).any()



def test_ids_and_classes_in_one_column_as_severstal_first_gave_them(tmp_path):
    """Severstal's first train.csv names 'a.jpg_3' in one ImageId_ClassId column, a row per
    image and class (empty: none): no setting read it, and every row was refused as a CSV id
    with no image. class_column naming the id column now splits it at its last '_'."""
    scratch, dent = np.zeros((H, W), bool), np.zeros((H, W), bool)
    scratch[0, :], dent[3:5, 2:4] = True, True
    rows = [(f"{n}_{k}", "") for n in ("a.jpg", "b.jpg", "c.jpg") for k in range(1, 5)]
    rows[0], rows[2] = ("a.jpg_1", encode(scratch, "columns")), ("a.jpg_3", encode(dent, "columns"))
    _airbus(tmp_path, rows)
    (tmp_path / "train.csv").write_text((tmp_path / "train.csv").read_text().replace(
        "ImageId,", "ImageId_ClassId,", 1))
    rle = {**RLE, "id_column": "ImageId_ClassId", "class_column": "ImageId_ClassId"}
    layout = Layout(images="train", rle=tuple(sorted(rle.items())))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    masks = {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}
    assert np.array_equal(masks["a"], np.where(dent, 3, np.where(scratch, 1, 0)))
    assert not masks["b"].any() and not masks["c"].any()

def test_bad_encodings_and_columns_are_named(tmp_path):
    _airbus(tmp_path, [("a.jpg", "3 2 7"), ("b.jpg", "40 20"), ("c.jpg", "")])
    layout = Layout(images="train", rle=tuple(sorted(RLE.items())))
    with pytest.raises(DataLayoutError, match=r"encoding of a\.jpg is unusable .*pairs"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)
    (tmp_path / "train.csv").write_text("ImageId,rle_mask\na.jpg,1 2\n")
    with pytest.raises(DataLayoutError, match=r"no column 'EncodedPixels'.*rle_mask"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)
    (tmp_path / "train.csv").write_text("ImageId,EncodedPixels\na.jpg,40 20\nzz.jpg,1 1\n")
    with pytest.raises(DataLayoutError, match=r"CSV ids with no image .*zz\.jpg"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)



def test_a_csv_not_in_utf8_is_named(tmp_path):
    """A CSV saved by Excel in the Windows code page (or as UTF-16) gave a bare
    UnicodeDecodeError naming no file."""
    _airbus(tmp_path, [("a.jpg", "1 2"), ("b.jpg", ""), ("c.jpg", "")])
    layout = Layout(images="train", rle=tuple(sorted(RLE.items())))
    (tmp_path / "train.csv").write_bytes("ImageId,EncodedPixels\na.jpg,1 2\nb.jpg,\n"
                                         "c.jpg,\nd\xe9.jpg,\n".encode("cp1252"))
    with pytest.raises(DataLayoutError, match=r"train\.csv is not UTF-8 .*line 5.*UTF-8"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout)

def test_a_downloaded_csv_beside_the_archives_is_found_above_root(tmp_path):
    # url and kaggle sources place a fetched CSV at the top of data/, while `root` may name a
    # folder inside the unpacked archives: the CSV was looked for in that folder only.
    data = tmp_path / "data"
    _airbus(data / "ships", [("a.jpg", "1 2"), ("b.jpg", ""), ("c.jpg", "")])
    (data / "ships" / "train.csv").rename(data / "train.csv")
    layout = Layout(images="train", rle=tuple(sorted(RLE.items())), root="ships",
                    section="dataset.url")
    manifest = write_manifest(tmp_path / "m.json", "url", data / "ships", layout)
    assert [p["id"] for p in manifest["pairs"]] == ["a", "b", "c"]


@pytest.mark.parametrize("order", ["columns", "rows"])
def test_encode_is_the_reference_encoding(order):
    from unet.dataset.rle_submission import encode as package_encode

    mask = np.random.default_rng(3).random((H, W)) > 0.5
    assert package_encode(mask, order) == encode(mask, order)
    assert package_encode(np.zeros((H, W), bool), order) == ""


def test_a_submission_has_a_row_per_image_or_per_class_present(tmp_path):
    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    index = np.zeros((H, W), np.uint8)
    index[1:3, 2:5], index[4:6, 0:2] = 1, 3
    grey = MaskMapping((0, 50, 100, 200))
    grey.write(tmp_path / "a.png", index)
    grey.write(tmp_path / "b.png", np.zeros((H, W), np.uint8))
    n = write_submission([("a.jpg", tmp_path / "a.png"), ("b.jpg", tmp_path / "b.png")], grey,
                         tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert n == 2 and [(r["ImageId"], r["ClassId"]) for r in rows] == [("a.jpg", "50"),
                                                                       ("a.jpg", "200")]
    assert np.array_equal(decode(rows[1]["EncodedPixels"], (W, H), "columns"), index == 3)
    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "c.png", (index > 0).astype(np.uint8))
    write_submission([("c.jpg", tmp_path / "c.png"), ("b.jpg", tmp_path / "b.png")], binary,
                     tmp_path / "t.csv", order="rows")
    with open(tmp_path / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["ImageId", "EncodedPixels"] and rows[1]["EncodedPixels"] == ""
    assert np.array_equal(decode(rows[0]["EncodedPixels"], (W, H), "rows"), index > 0)


def test_objects_give_a_row_each_and_an_image_without_one_an_empty_row(tmp_path):
    # Airbus Ship Detection scores each ship on its own: a row per object, and an image
    # without ships is listed once with no encoding.
    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    index = np.zeros((H, W), np.uint8)
    index[0:2, 0:2], index[0, 5] = 1, 1
    index[3:5, 3:5], index[5, 5] = 1, 1  # one ship: a pixel touching it at a corner is part of it
    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "a.png", index)
    binary.write(tmp_path / "b.png", np.zeros((H, W), np.uint8))
    n = write_submission([("a.jpg", tmp_path / "a.png"), ("b.jpg", tmp_path / "b.png")], binary,
                         tmp_path / "s.csv", objects=True)
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert n == 4 and [r["ImageId"] for r in rows] == ["a.jpg"] * 3 + ["b.jpg"]
    parts = [decode(r["EncodedPixels"], (W, H), "columns") for r in rows[:3]]
    assert sorted(int(p.sum()) for p in parts) == [1, 4, 5]
    assert np.array_equal(np.logical_or.reduce(parts), index > 0)
    assert rows[3]["EncodedPixels"] == ""
    grey = MaskMapping((0, 50, 100))
    index[0:2, 0:2] = 2
    grey.write(tmp_path / "c.png", index)
    write_submission([("c.jpg", tmp_path / "c.png")], grey, tmp_path / "t.csv", objects=True)
    with open(tmp_path / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["ClassId"], decode(r["EncodedPixels"], (W, H), "columns").sum())
                  for r in rows) == [("100", 4), ("50", 1), ("50", 5)]


def test_the_cli_takes_rle_objects(tmp_path):
    from unet.cli import parser

    args = parser().parse_args(["predict", "m.pt", "x.png", "-o", "out", "--rle", "s.csv",
                                      "--rle-objects"])
    assert args.rle_objects is True


def test_a_submission_encodes_every_scored_class_in_readable_values(tmp_path):
    """masks.background false scores class 0 too (Cityscapes' road): before, its rows were
    left out; and a colour class's ClassId was its packed 24-bit number (8388608 for
    [128, 0, 0]), not a colour anyone can read."""
    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    index = np.zeros((H, W), np.uint8)
    index[1:3, 2:5], index[4:6, 0:2] = 1, 2
    city = MaskMapping((7, 8, 26), background=False)
    city.write(tmp_path / "a.png", index)
    write_submission([("a.png", tmp_path / "a.png")], city, tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["ClassId"] for r in rows] == ["7", "8", "26"]
    assert np.array_equal(decode(rows[0]["EncodedPixels"], (W, H), "columns"), index == 0)
    two = MaskMapping((0, 255), background=False)  # both classes scored: a ClassId each
    two.write(tmp_path / "b.png", (index > 0).astype(np.uint8))
    write_submission([("b.png", tmp_path / "b.png")], two, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as f:
        assert [r["ClassId"] for r in csv.DictReader(f)] == ["0", "255"]
    colours = MaskMapping((0x000000, 0x800000, 0x804080), rgb=True)
    colours.write(tmp_path / "c.png", index)
    write_submission([("c.png", tmp_path / "c.png")], colours, tmp_path / "u.csv")
    with open(tmp_path / "u.csv", newline="") as f:
        assert [r["ClassId"] for r in csv.DictReader(f)] == ["#800000", "#804080"]


def test_a_submission_takes_the_competitions_columns_and_ids(tmp_path):
    # TGS Salt wants id,rle_mask keyed by the file stem; ultrasound nerve img,pixels: only
    # ImageId,EncodedPixels with the file name could be written.
    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "a.png", np.eye(H, W, dtype=np.uint8))
    write_submission([("a.png", tmp_path / "a.png")], binary, tmp_path / "s.csv",
                     columns=("id", "rle_mask"), stem=True)
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["id", "rle_mask"] and rows[0]["id"] == "a"
    with pytest.raises(ValueError, match=r"--rle-columns.*one scored class.*2 names"):
        write_submission([("a.png", tmp_path / "a.png")], binary, tmp_path / "t.csv",
                         columns=("id", "class", "rle"))


def test_objects_of_several_classes_list_an_image_without_any_once(tmp_path):
    # --rle-objects with a model of several scored classes left an image without objects out
    # of the CSV altogether (a header alone for a set of empty images), where the README
    # promises it a row with no encoding, as for one class.
    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    grey = MaskMapping((0, 50, 100))
    index = np.zeros((H, W), np.uint8)
    grey.write(tmp_path / "empty.png", index)
    index[-1, -1] = 2  # the image's last pixel
    grey.write(tmp_path / "one.png", index)
    n = write_submission([("empty.jpg", tmp_path / "empty.png"), ("one.jpg", tmp_path / "one.png")],
                         grey, tmp_path / "s.csv", objects=True)
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert n == 2 and rows == [["ImageId", "ClassId", "EncodedPixels"], ["empty.jpg", "", ""],
                               ["one.jpg", "100", f"{H * W} 1"]]


def test_a_row_without_objects_may_leave_its_class_empty(tmp_path):
    """With a class column, a row with no encoding and no class (an image without objects, as
    this project's own submissions with objects list it) was refused: class '' is not a
    class number."""
    _airbus(tmp_path, [("a.jpg", "1 3", "2"), ("b.jpg", "", ""), ("c.jpg", "", "")],
            extra_cols=("ClassId",))
    rle = {**RLE, "class_column": "ClassId"}
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                              Layout(images="train", rle=tuple(sorted(rle.items()))))
    masks = {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}
    assert masks["a"][:3, 0].tolist() == [2, 2, 2] and masks["a"].sum() == 6
    assert not masks["b"].any() and not masks["c"].any()
