"""Encodings read in the wrong order (rle.order): Carvana's train_masks.csv counts along rows,
most other competitions' CSVs down columns, and a CSV read the other way draws scrambled masks
without an error."""

from __future__ import annotations

import csv
import logging

import numpy as np
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout
from unet.dataset.rle_submission import encode

H, W = 24, 40
RLE = {"csv": "train_masks.csv", "id_column": "img", "rle_column": "rle_mask",
       "class_column": None, "absent": "unpaired"}


def _carvana(root):
    """Cars (ellipses) on 40x24 images, encoded along rows as Carvana's CSV is."""
    (root / "train").mkdir(parents=True)
    yy, xx = np.mgrid[0:H, 0:W]
    rows = []
    for k in range(3):
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "train" / f"car{k}.jpg")
        car = ((xx - 20 - k) / 14) ** 2 + ((yy - 12) / (6 + k)) ** 2 < 1
        rows.append((f"car{k}.jpg", encode(car, "rows")))
    with open(root / "train_masks.csv", "w", newline="") as f:
        csv.writer(f).writerows([("img", "rle_mask"), *rows])


def _layout(order):
    return Layout(images="train", rle=tuple(sorted({**RLE, "order": order}.items())))


def test_encodings_read_in_the_other_order_are_named(tmp_path, caplog):
    """Carvana's CSV read with the default order (columns) drew 5 times the object edges
    of the cars, silently; a warning now names rle.order: rows."""
    _carvana(tmp_path)
    _warned_only_read_by_columns(tmp_path, caplog, "train_masks.csv")


def test_checking_the_order_of_many_objects_keeps_one_mask_at_a_time():
    # DSB 2018's CSV has a row per nucleus, up to 375 on a 1388x1040 image: every object's
    # decoded mask was kept until their union (869 MB for 300 objects there).
    import tracemalloc
    from pathlib import Path

    from unet.dataset.rle import RleMasks
    from unet.dataset.rle_order import check_order

    h, w = 120, 200
    rows = []
    for k in range(200):
        obj = np.zeros((h, w), bool)
        obj[(k * 7) % 110 : (k * 7) % 110 + 6, (k * 13) % 190 : (k * 13) % 190 + 6] = True
        rows.append((encode(obj, "columns"), None))
    masks = RleMasks(tuple(rows), "columns", Path("train.csv"), False)
    tracemalloc.start()
    check_order([(masks, Path("a.png"), (w, h))])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 12 * h * w  # a few masks' bytes, not 200


def _squares(root, n=3, side=48, contrast=120, seed=0):
    """Bright ellipses off the diagonal on noisy square images (Airbus, TGS Salt are square),
    encoded down columns; their (id, mask) pairs."""
    (root / "train").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    masks = []
    for k in range(n):
        cy, cx = rng.uniform(8, 16), rng.uniform(26, 40)
        obj = ((yy - cy) / 6) ** 2 + ((xx - cx) / 4) ** 2 < 1
        img = rng.normal(60, 12, (side, side)) + contrast * obj
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(root / "train" / f"s{k}.png")
        masks.append((f"s{k}.png", obj))
    return masks


def _write_csv(root, masks, order):
    with open(root / "train_masks.csv", "w", newline="") as f:
        csv.writer(f).writerows([("img", "rle_mask"), *((k, encode(m, order)) for k, m in masks)])


def test_square_images_encoded_in_the_other_order_are_named(tmp_path, caplog):
    """On square images the other order draws each mask transposed, with as many edges: a CSV
    counting along rows, read down columns, trained on transposed masks without a word. The
    outlines now fall on the images' edges only one way, and the warning names rle.order."""
    masks = _squares(tmp_path)
    _write_csv(tmp_path, masks, "rows")
    _warned_only_read_by_columns(tmp_path, caplog, "s0.png")


def test_square_images_whose_outlines_are_not_edges_get_no_order_warning(tmp_path, caplog):
    # Objects no brighter than the noise around them: neither order can be told, and a
    # warning there would send a right CSV the wrong way.
    masks = _squares(tmp_path, n=8, contrast=0)
    caplog.set_level(logging.WARNING)
    for order in ("columns", "rows"):
        _write_csv(tmp_path, masks, order)
        write_manifest(tmp_path / order / "m.json", "local", tmp_path, _layout("columns"))
    assert "rle.order" not in caplog.text


def test_isbi_sections_encoded_along_rows_are_named(caplog):
    """ISBI 2012's 512x512 cell labels, encoded along rows and read down columns, on the
    first 8 sections; read along rows, nothing is said."""
    from pathlib import Path

    from tests.conftest import real_data
    from unet.dataset.rle import RleMasks
    from unet.dataset.rle_order import check_order

    data = real_data("isbi2012-membrane")
    labels = [np.asarray(Image.open(data / "label" / f"{k}.png")) > 127 for k in range(8)]
    caplog.set_level(logging.WARNING)
    for order in ("columns", "rows"):
        caplog.clear()
        check_order([(RleMasks(((encode(lab, "rows"), None),), order, Path("train.csv"), False),
                      data / "image" / f"{k}.png", (512, 512)) for k, lab in enumerate(labels)])
        assert ("rle.order: rows" in caplog.text) == (order == "columns"), order


def _warned_only_read_by_columns(root, caplog, named: str) -> None:
    """A CSV counting along rows: read down columns the log names rle.order: rows and
    `named`; read along rows it says nothing of the order."""
    caplog.set_level(logging.WARNING)
    write_manifest(root / "a" / "m.json", "local", root, _layout("columns"))
    assert "rle.order: rows" in caplog.text and named in caplog.text
    caplog.clear()
    write_manifest(root / "b" / "m.json", "local", root, _layout("rows"))
    assert "rle.order" not in caplog.text


def test_an_encoding_longer_than_python_s_csv_field_limit_is_read(tmp_path):
    # A 1918x1280 mask of 20,000 runs (a noisy prediction fed back as pseudo-labels, as
    # `unet predict --rle` writes them) is 240,000 characters: Python's csv stopped at 131,072
    # with "_csv.Error: field larger than field limit", naming neither file nor fix
    import json

    (tmp_path / "train").mkdir()
    h, w = 64, 4200
    mask = np.zeros((h, w), bool)
    mask[:, ::2] = True  # 134,400 one-pixel runs: a 1.3 MB encoding
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(tmp_path / "train" / "car0.jpg")
    text = encode(mask, "rows")
    assert len(text) > 131072
    with open(tmp_path / "train_masks.csv", "w", newline="") as f:
        csv.writer(f).writerows([("img", "rle_mask"), ("car0.jpg", text)])
    manifest = tmp_path / "out" / "m.json"
    write_manifest(manifest, "local", tmp_path, _layout("rows"))
    pair = json.loads(manifest.read_text())["pairs"][0]
    assert (np.array(Image.open(pair["mask"])) > 0).tolist() == mask.tolist()
    assert csv.field_size_limit() == 131072  # the process's limit left as it was
