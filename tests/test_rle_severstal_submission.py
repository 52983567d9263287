"""`unet predict --rle` in Severstal's own column order: its sample_submission.csv reads
`ImageId,EncodedPixels,ClassId`, the class last."""

from __future__ import annotations

import csv

import numpy as np

from unet.common.labels import MaskMapping
from unet.dataset.rle_submission import write_submission


def _rows(path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _class_3(tmp_path) -> tuple[MaskMapping, list]:
    """Severstal's classes and one predicted mask a.png of class 3 on pixels 10, 11, 14, 15."""
    grey = MaskMapping((0, 1, 2, 3, 4))
    index = np.zeros((4, 6), np.uint8)
    index[1:3, 2:4] = 3
    grey.write(tmp_path / "a.png", index)
    return grey, [("a.jpg", tmp_path / "a.png")]


def test_rle_columns_in_severstals_order_put_each_value_under_its_name(tmp_path):
    """`--rle-columns ImageId,EncodedPixels,ClassId` (Severstal's header) wrote the class
    number under EncodedPixels and the encoding under ClassId, as the names were taken by
    place (image, class, encoding): Kaggle reads columns by name, so every row was unusable.
    A name that says class is the class column wherever it stands now."""
    grey = MaskMapping((0, 1, 2, 3, 4))
    index = np.zeros((4, 6), np.uint8)
    index[1:3, 2:4] = 3  # pixels 10, 11, 14, 15 counted down columns from 1
    grey.write(tmp_path / "a.png", index)
    masks = [("a.jpg", tmp_path / "a.png")]
    for header, cls, enc in (
            (("ImageId", "EncodedPixels", "ClassId"), "ClassId", "EncodedPixels"),
            (("ImageId", "ClassId", "EncodedPixels"), "ClassId", "EncodedPixels"),
            (("img", "rle", "class"), "class", "rle")):
        write_submission(masks, grey, tmp_path / "s.csv", columns=header, empty="")
        names, rows = _rows(tmp_path / "s.csv")
        assert names == list(header)
        assert [(r[header[0]], r[cls], r[enc]) for r in rows] == [
            ("a.jpg", "1", ""), ("a.jpg", "2", ""), ("a.jpg", "3", "10 2 14 2"),
            ("a.jpg", "4", "")], (header, rows)


def test_rle_columns_of_one_joined_id_write_image_and_class_in_it(tmp_path):
    """Severstal's first layout, `ImageId_ClassId,EncodedPixels` ('a.jpg_3'), and
    Understanding Clouds' `Image_Label` ('a.jpg_Fish'), which the data set reads, were
    refused as a submission (three names wanted): two names, the first holding 'class' or
    'label', now write each image and class in one id, by the class's name where the model
    has names."""
    grey, masks = _class_3(tmp_path)
    names = ["background", "Fish", "Flower", "Gravel", "Sugar"]
    for header, labels in ((("ImageId_ClassId", "EncodedPixels"), None),
                           (("Image_Label", "EncodedPixels"), names)):
        n = write_submission(masks, grey, tmp_path / "s.csv", columns=header, empty="",
                             names=labels)
        got, rows = _rows(tmp_path / "s.csv")
        shown = labels[1:] if labels else ["1", "2", "3", "4"]
        assert n == 4 and got == list(header)
        assert [(r[header[0]], r[header[1]]) for r in rows] == [
            (f"a.jpg_{c}", "10 2 14 2" if k == 3 else "") for k, c in enumerate(shown, 1)], rows


def test_class_ids_stay_numbers_where_the_model_has_names(tmp_path):
    """A Severstal model trained with masks.names (for the report) wrote `ImageId_ClassId` as
    'a.jpg_scratches', where Severstal's scorer reads 'a.jpg_3', and every row was unusable: a
    column that says Id takes the class's value, one that says label or name (Understanding
    Clouds' `Image_Label`, a `class_name`) its name; a `Label` column is the class column
    wherever it stands, as `ClassId` is."""
    grey, masks = _class_3(tmp_path)
    names = ["background", "pitting", "inclusion", "scratches", "patches"]
    for header, column, shown in (
            (("ImageId_ClassId", "EncodedPixels"), "ImageId_ClassId", "a.jpg_3"),
            (("Image_Label", "EncodedPixels"), "Image_Label", "a.jpg_scratches"),
            (("ImageId", "EncodedPixels", "ClassId"), "ClassId", "3"),
            (("ImageId", "class_name", "EncodedPixels"), "class_name", "scratches"),
            (("ImageId", "EncodedPixels", "Label"), "Label", "scratches")):
        write_submission(masks, grey, tmp_path / "s.csv", columns=header, names=names)
        got, rows = _rows(tmp_path / "s.csv")
        assert got == list(header)
        assert [(r[column], r["EncodedPixels"] if "EncodedPixels" in r else r[header[-1]])
                for r in rows] == [(shown, "10 2 14 2")], (header, rows)
