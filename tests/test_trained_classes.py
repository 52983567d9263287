"""The classes a model trains on come from the counts preprocess recorded, per split and per
fold, not from a second read of every cached mask; an older cache without them is recounted."""

from __future__ import annotations

import numpy as np

from tests.conftest import write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json
from unet.train import classes
from unet.train.classes import trained_classes
from unet.train.folds import fold_rows


def _cache(tmp_path):
    """Masks of classes 0, 1 (values 0, 255), and 2 (value 128) in p4 and p5 alone."""
    pairs = [write_pair(tmp_path, i, values=(0, 255, 128) if i in (4, 5) else (0, 255))
             for i in range(8)]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:],
                                         "folds": [ids[:3], ids[3:6]]})
    return preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
                      PreprocessSettings(width=16, height=16, mask_values=(0, 255, 128)))


def test_the_recorded_counts_give_the_trained_classes_without_reading_a_mask(tmp_path,
                                                                               monkeypatch):
    meta = _cache(tmp_path)
    masks = {s: np.load(tmp_path / "c" / f"{s}_masks.npy") for s in ("train", "val")}
    for name in ("train", "val"):
        counts = np.bincount(masks[name].reshape(-1), minlength=3)[:3]
        assert meta["splits"][name]["class_counts"] == counts.tolist()
    rows = [("train", k) for k in range(4)]
    expected = {None: [0, 1], 0: [0, 1, 2], 1: [0, 1]}  # fold 0 trains on p3..p5
    recounted = {f: trained_classes(tmp_path / "c", rows if f is None else
                                    fold_rows(meta, f)[0], 3) for f in expected}
    assert recounted == expected  # (an older cache: every row's mask read again)

    def unread(*_):
        raise AssertionError("a cached mask was read again")

    monkeypatch.setattr(classes, "load_split", unread)
    for fold, want in expected.items():
        train = rows if fold is None else fold_rows(meta, fold)[0]
        assert trained_classes(tmp_path / "c", train, 3, meta=meta, fold=fold) == want
    old = read_json(tmp_path / "c" / "meta.json")
    del old["splits"]["train"]["class_counts"]
    monkeypatch.undo()
    assert trained_classes(tmp_path / "c", rows, 3, meta=old) == [0, 1]
