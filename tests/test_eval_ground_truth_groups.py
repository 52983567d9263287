"""evaluate.ground_truth named as dataset.local names masks: a prefix, and {group} in its
folder, so a Cell Tracking Challenge run trained on the silver truth (01_ST/SEG) scores on the
gold (02_GT/SEG/man_seg003.tif for image 02/t003.tif, id 02_003) without a folder of links."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.common.fileio import write_json
from unet.dataset.download import write_manifest
from unet.dataset.layout import layout_from
from unet.evaluate.evaluate import evaluate_masks
from unet.evaluate.ground_truth import truth_files

LOCAL = {"images": "{group}", "masks": "{group}_ST/SEG", "image_prefix": "t",
         "mask_prefix": "man_seg", "allow_unpaired": True}
GOLD = {"masks": "{group}_GT/SEG", "prefix": "man_seg"}
GOLD_FRAMES = {"01": ["001"], "02": ["000", "002"]}  # gold truth for some frames only


def _square(left: int) -> np.ndarray:
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, left:left + 10] = 255
    return mask


def _data(tmp_path: Path) -> Path:
    """Two sequences of 3 frames: silver masks everywhere (the square at column 2), gold for
    some frames (at column 6), predictions equal to the gold. Returns the data root."""
    root, pred = tmp_path / "ctc", tmp_path / "pred"
    pred.mkdir()
    for seq in ("01", "02"):
        for sub in (seq, f"{seq}_ST/SEG", f"{seq}_GT/SEG"):
            (root / sub).mkdir(parents=True)
        for t in ("000", "001", "002"):
            Image.fromarray(np.full((20, 20), 99, np.uint8)).save(root / seq / f"t{t}.tif")
            Image.fromarray(_square(2)).save(root / f"{seq}_ST/SEG/man_seg{t}.tif")
            Image.fromarray(_square(6)).save(pred / f"{seq}_{t}.png")
        for t in GOLD_FRAMES[seq]:
            Image.fromarray(_square(6)).save(root / f"{seq}_GT/SEG/man_seg{t}.tif")
    layout = layout_from({**LOCAL, "path": str(root)}, "local")
    write_manifest(tmp_path / "manifest.json", "local", root, layout)
    return root


def _evaluate(tmp_path: Path, ids: list[str], ground_truth: dict | None) -> dict:
    write_json(tmp_path / "meta.json", {"class_values": [0, 255], "splits": {"test": {"ids": ids}}})
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / "rows.csv", tmp_path / "s.json",
                          ground_truth=ground_truth, dataset={"source": "local",
                                                              "settings": LOCAL})


def test_gold_masks_named_by_group_and_prefix_are_scored(tmp_path):
    _data(tmp_path)
    ids = ["01_001", "02_000", "02_002"]
    silver = _evaluate(tmp_path, ids, None)["methods"]["raw"]
    gold = _evaluate(tmp_path, ids, GOLD)
    # against the silver squares 4 columns away: 60 of 100 px overlap, Dice 0.6
    assert silver["classes"]["1"]["global"]["dice"] == pytest.approx(0.6)
    assert gold["methods"]["raw"]["classes"]["1"]["global"]["dice"] == 1.0
    assert gold["images"] == 3


def test_a_test_frame_without_gold_is_refused_by_name(tmp_path):
    _data(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"02_001.*man_seg001.*02_GT/SEG.*test_ids"):
        _evaluate(tmp_path, ["02_000", "02_001"], GOLD)


def test_a_prefix_alone_names_masks_in_one_folder(tmp_path):
    root = _data(tmp_path)
    (root / "gold").mkdir()
    Image.fromarray(_square(6)).save(root / "gold/gt_02_001.tif")
    summary = _evaluate(tmp_path, ["02_001"], {"masks": "gold", "prefix": "gt_"})
    assert summary["methods"]["raw"]["classes"]["1"]["global"]["dice"] == 1.0


def test_group_in_the_truth_folder_without_group_folders_is_refused(tmp_path):
    _data(tmp_path)
    write_json(tmp_path / "meta.json", {"class_values": [0, 255],
                                        "splits": {"test": {"ids": ["02_000"]}}})
    with pytest.raises(ValueError, match=r"evaluate\.ground_truth\.masks.*\{group\}.*images"):
        evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                       {"raw": tmp_path / "pred"}, tmp_path / "rows.csv", tmp_path / "s.json",
                       ground_truth=GOLD, dataset={"source": "local", "settings": {
                           "images": "02", "masks": "02_ST/SEG"}})


def test_every_groups_gold_masks_are_the_evaluations_input(tmp_path):
    # editing 02_GT/SEG/man_seg002.tif must rerun evaluate_masks: each group's folder is listed
    root = _data(tmp_path)
    (root / "02_GT/SEG/notes.txt").write_text("")  # not a man_seg* file
    listed = truth_files(GOLD, str(root))
    assert [Path(f).relative_to(root).as_posix() for f in listed] == [
        "01_GT/SEG/man_seg001.tif", "02_GT/SEG/man_seg000.tif", "02_GT/SEG/man_seg002.tif"]


def test_only_the_data_sets_groups_gold_masks_are_listed(tmp_path):
    # {group} is the data set's group folder (01, 02: one level), not any 1-3 levels: an old
    # copy (old/01_GT/SEG) or a folder inside a sequence (01/x_GT/SEG) is no group's gold, and
    # editing it must not rerun the evaluation
    root = _data(tmp_path)
    for stray in ("old/01_GT/SEG", "01/x_GT/SEG"):
        (root / stray).mkdir(parents=True)
        Image.fromarray(_square(6)).save(root / stray / "man_seg000.tif")
    layout = layout_from({**LOCAL, "path": str(root)}, "local")
    listed = truth_files(GOLD, str(root), layout)
    assert [Path(f).relative_to(root).as_posix() for f in listed] == [
        "01_GT/SEG/man_seg001.tif", "02_GT/SEG/man_seg000.tif", "02_GT/SEG/man_seg002.tif"]
