"""Classes in a CSV of encodings given by name, not number (Understanding Clouds' Fish,
Flower, Gravel and Sugar)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout


def test_classes_named_in_the_csv_are_numbered_by_name(tmp_path):
    """Understanding Clouds names its classes ('a.jpg_Fish' in one Image_Label column, a row
    per image and class): every row was refused, its class not being a number. Names are now
    classes 1, 2, ... in sorted order, recorded as the manifest's class names."""
    (tmp_path / "train_images").mkdir()
    for n in ("a.jpg", "b.jpg"):
        Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(tmp_path / "train_images" / n)
    rows = ["a.jpg_Sugar,1 2", "a.jpg_Fish,5 3", "a.jpg_Gravel,", "b.jpg_Fish,", "b.jpg_Sugar,",
            "b.jpg_Gravel,"]
    (tmp_path / "train.csv").write_text("Image_Label,EncodedPixels\n" + "\n".join(rows) + "\n")
    rle = {"csv": "train.csv", "id_column": "Image_Label", "rle_column": "EncodedPixels",
           "class_column": "Image_Label", "order": "columns", "absent": "unpaired"}
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                              Layout(images="train_images", rle=tuple(sorted(rle.items()))))
    assert manifest["class_names"] == {"0": "background", "1": "Fish", "2": "Gravel",
                                       "3": "Sugar"}
    masks = {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}
    assert masks["a"][:, 0].tolist() == [3, 3, 0, 0] and masks["a"][:, 1].tolist() == [1] * 3 + [0]
    assert not masks["b"].any()


def test_rle_empty_with_several_classes_writes_a_row_per_image_and_class(tmp_path):
    """`--rle-empty -1` for a model of several classes was taken and ignored: an image without
    a class got no row at all. Severstal and Understanding Clouds list every image and class,
    an absent class with the empty encoding: given --rle-empty, that is what is written now."""
    import csv

    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    grey = MaskMapping((0, 50, 100))
    index = np.zeros((4, 6), np.uint8)
    index[1:3, 2:4] = 2
    grey.write(tmp_path / "a.png", index)
    grey.write(tmp_path / "b.png", np.zeros((4, 6), np.uint8))
    masks = [("a.jpg", tmp_path / "a.png"), ("b.jpg", tmp_path / "b.png")]
    for empty in ("-1", ""):
        n = write_submission(masks, grey, tmp_path / "s.csv", empty=empty)
        with open(tmp_path / "s.csv", newline="") as f:
            rows = [(r["ImageId"], r["ClassId"], r["EncodedPixels"]) for r in csv.DictReader(f)]
        assert n == 4 and rows == [("a.jpg", "50", empty), ("a.jpg", "100", "10 2 14 2"),
                                   ("b.jpg", "50", empty), ("b.jpg", "100", empty)], rows
    write_submission(masks, grey, tmp_path / "t.csv")  # no --rle-empty: classes present only
    with open(tmp_path / "t.csv", newline="") as f:
        assert [r["ClassId"] for r in csv.DictReader(f)] == ["100"]
