"""masks.separate with per-object RLE rows (Sartorius, Airbus, DSB: one row per object): each
row's id is drawn beside the mask, so touching and overlapping objects stay apart."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image
from scipy import ndimage

from tests.test_separate_drawn import _config
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.config.checks import check_data
from unet.dataset.download import download_dataset
from unet.dataset.json_masks import drawn_objects

H, W = 26, 35  # not square: row-major (Sartorius) and column-major encodings differ


def _rows(mask: np.ndarray) -> str:
    """An independent row-major (C order) encoding, starts from 1, as Sartorius' train.csv."""
    flat = np.concatenate([[0], mask.ravel().astype(np.int8), [0]])
    change = np.flatnonzero(np.diff(flat)) + 1
    change[1::2] -= change[::2]
    return " ".join(map(str, change))


def _cells() -> list[np.ndarray]:
    """Three cells: the first two touch (columns 3-10 and 11-18), the third overlaps the second."""
    boxes = [(4, 12, 3, 11), (4, 12, 11, 19), (9, 20, 16, 30)]
    cells = []
    for y0, y1, x0, x1 in boxes:
        m = np.zeros((H, W), bool)
        m[y0:y1, x0:x1] = True
        cells.append(m)
    return cells


def _data(root) -> dict:
    (root / "train").mkdir(parents=True)
    with open(root / "train.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "annotation", "width", "height", "cell_type"])
        for stem in ("a", "b", "c", "d"):
            Image.fromarray(np.full((H, W), 90, np.uint8)).save(root / "train" / f"{stem}.png")
            out.writerows([stem, _rows(m), W, H, "shsy5y"] for m in _cells())
    return {"path": str(root), "images": "train",
            "rle": {"csv": "train.csv", "id_column": "id", "rle_column": "annotation",
                    "order": "rows", "class_column": None, "absent": "unpaired"}}


def test_each_rle_row_is_an_object_under_separate(tmp_path):
    local = _data(tmp_path / "data")
    config = _config(local, separate=True, threshold=0)
    config["dataset"]["local"] = local
    check_data(config)  # was refused: the rows were merged, their ids lost
    assert drawn_objects(local, {"separate": True}) and not drawn_objects(local, {})
    out = tmp_path / "out"
    manifest = download_dataset(out / "manifest.json", "local",
                                {**local, "separate_objects": True})
    pair = manifest["pairs"][0]
    ids = np.asarray(Image.open(pair["mask_objects"]))
    cells = _cells()
    want = np.zeros((H, W), np.uint16)
    for n, m in enumerate(cells, 1):
        want[m] = n  # the later row wins where they overlap, as in the class mask
    assert (ids == want).all()
    mask = np.asarray(Image.open(pair["mask"]))
    assert ((mask > 0) == np.any(cells, 0)).all()
    # the training cache parts the touching cells: three objects, not one blob
    split = {"train": ["a", "b"], "val": ["c"], "test": ["d"]}
    write_json(out / "split.json", split)
    preprocess(out / "manifest.json", out / "split.json", out / "cache",
               PreprocessSettings(width=W, height=H, mask_separate=True))
    train = load_split(out / "cache", "train")[1]
    assert [ndimage.label(m > 0, np.ones((3, 3)))[1] for m in train] == [3, 3]


def test_without_separate_no_ids_are_drawn(tmp_path):
    local = _data(tmp_path / "data")
    manifest = download_dataset(tmp_path / "out/manifest.json", "local", local)
    assert "mask_objects" not in manifest["pairs"][0]
    assert not list((tmp_path / "out/merged_masks").glob("*.objects.tif"))
