"""`unet score`: predicted masks against an external folder's own masks (PraNet's ETIS,
CVC-ColonDB), through evaluate_masks' metrics, with Dice known by hand."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.cli import main
from unet.common.fileio import read_json
from unet.evaluate.evaluate import evaluate_masks
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_folder


def _mask(path: Path, on: list[tuple[int, int]], shape=(10, 10), **save) -> Path:
    """A 0/255 mask of `shape` (h, w) with 255 on the pixels `on` (row, col)."""
    a = np.zeros(shape, np.uint8)
    for r, c in on:
        a[r, c] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path, **save)
    return path


def _block(rows: range, cols: range) -> list[tuple[int, int]]:
    return [(r, c) for r in rows for c in cols]


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    """pred/ and truth/ of two pairs: a (Dice 2/3: 4 of 8 truth px found, none extra) and
    b (Dice 1/2: 2 of 4 found, 2 extra)."""
    pred, truth = tmp_path / "pred", tmp_path / "truth"
    _mask(truth / "a.png", _block(range(2), range(4)))
    _mask(pred / "a.png", _block(range(1), range(4)))
    _mask(truth / "b.png", _block(range(2), range(2)))
    _mask(pred / "b.png", _block(range(1, 3), range(2)))
    return pred, truth


def _rows(out: Path, cls: int = 1) -> dict[str, dict]:
    with open(out / "per_image.csv") as f:
        return {r["id"]: r for r in csv.DictReader(f) if int(r["class"]) == cls}


def _score(pred, truth, model, *more: str) -> int:
    return main(["score", str(pred), str(truth), "--model", str(model), "--threads", "1", *more])


def test_dice_known_by_hand(folders, cli_model, capsys):
    pred, truth = folders
    assert _score(pred, truth, cli_model) == 0
    out = pred.parent / "pred_score"  # the default: beside the predictions
    rows = _rows(out)
    assert float(rows["a"]["dice"]) == pytest.approx(2 / 3)
    assert float(rows["b"]["dice"]) == pytest.approx(0.5)
    c1 = read_json(out / "summary.json")["methods"]["pred"]["classes"]["1"]
    assert c1["mean_per_image"]["dice"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert c1["global"]["dice"] == pytest.approx(2 * 6 / (12 + 8))  # pooled counts: 0.6
    table = capsys.readouterr().out
    assert "2 pairs scored" in table and "0.5833" in table and "0.6000" in table


def test_swapping_pred_and_truth_keeps_dice_and_swaps_precision_recall(folders, cli_model,
                                                                        tmp_path):
    pred, truth = folders
    assert _score(pred, truth, cli_model, "--out", str(tmp_path / "o1")) == 0
    assert _score(truth, pred, cli_model, "--out", str(tmp_path / "o2")) == 0
    one, two = _rows(tmp_path / "o1"), _rows(tmp_path / "o2")
    assert float(one["a"]["precision"]) == 1 and float(one["a"]["recall"]) == 0.5
    for k in ("a", "b"):
        assert one[k]["dice"] == two[k]["dice"]
        assert (one[k]["precision"], one[k]["recall"]) == (two[k]["recall"], two[k]["precision"])


def test_truth_named_with_a_prefix_pairs_with_mask_prefix(tmp_path, cli_model, capsys):
    pred, truth = tmp_path / "pred", tmp_path / "truth"
    for i in (1, 2):  # ETIS: p1.tif is the mask of 1.tif, whose prediction is 1.png
        _mask(pred / f"{i}.png", _block(range(2), range(2)))
        _mask(truth / f"p{i}.tif", _block(range(2), range(2)))
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert "2 prediction(s) in" in err and "1, 2 (2 in all)" in err
    assert "p1, p2 (2 in all)" in err and "--mask-prefix" in err
    assert _score(pred, truth, cli_model, "--mask-prefix", "p") == 0
    assert {k: float(r["dice"]) for k, r in _rows(tmp_path / "pred_score").items()} == {
        "1": 1.0, "2": 1.0}


def test_unpaired_files_are_named_and_refused_unless_partial(folders, cli_model, capsys):
    pred, truth = folders
    _mask(pred / "c.png", [])
    _mask(truth / "d.png", [])
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert f"1 prediction(s) in {pred} have no mask <name>.* in {truth}: c (1 in all)" in err
    assert f"1 mask(s) in {truth} have no prediction in {pred}: d (1 in all)" in err
    assert "--partial" in err
    assert _score(pred, truth, cli_model, "--partial") == 0
    assert sorted(_rows(pred.parent / "pred_score")) == ["a", "b"]


def test_empty_masks_follow_the_convention(tmp_path, cli_model):
    pred, truth = tmp_path / "pred", tmp_path / "truth"
    _mask(pred / "none.png", [])  # neither holds the class: 1 by the convention, HD95 0
    _mask(truth / "none.png", [])
    _mask(pred / "missed.png", [])  # truth holds it, the prediction not: 0, HD95 inf
    _mask(truth / "missed.png", [(3, 3)])
    assert _score(pred, truth, cli_model) == 0
    out = tmp_path / "pred_score"
    rows = _rows(out)
    assert (float(rows["none"]["dice"]), float(rows["none"]["hd95"])) == (1.0, 0.0)
    assert float(rows["missed"]["dice"]) == 0 and rows["missed"]["hd95"] == "inf"
    assert float(rows["missed"]["precision"]) == 1 and float(rows["missed"]["recall"]) == 0
    summary = read_json(out / "summary.json")
    assert "counts as 1.0" in summary["empty_mask_convention"]
    c1 = summary["methods"]["pred"]["classes"]["1"]
    assert c1["hd95_penalised"] == 1
    assert c1["mean_per_image"]["hd95"] == pytest.approx(np.hypot(10, 10) / 2)


def test_jpeg_truth_refused_then_read_with_threshold(folders, cli_model, capsys):
    pred, truth = folders
    (truth / "a.png").unlink()  # a's truth as a JPEG: its edges smeared into 1..254
    big = _block(range(8), range(5))
    _mask(pred / "a.png", big)
    _mask(truth / "a.jpg", big, quality=60)
    assert set(np.unique(np.asarray(Image.open(truth / "a.jpg")))) - {0, 255}
    assert _score(pred, truth, cli_model) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "progress" not in line]
    assert len(err) == 1, err  # one line
    err = err[0]
    print(err)
    assert f"ground-truth mask {truth / 'a.jpg'} holds values" in err
    assert "--threshold 127" in err and "masks." not in err
    assert _score(pred, truth, cli_model, "--threshold", "127") == 0
    assert float(_rows(pred.parent / "pred_score")["a"]["dice"]) == 1.0


def test_a_size_mismatch_names_both_files(folders, cli_model, capsys):
    pred, truth = folders
    _mask(truth / "b.png", [], shape=(12, 10))
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert f"prediction {pred / 'b.png'} is 10x10 but its ground truth {truth / 'b.png'} " \
           "is 10x12" in err
    assert not (pred.parent / "pred_score").exists()  # refused before anything is written


def test_output_inside_the_truth_is_refused(folders, cli_model, capsys):
    pred, truth = folders
    assert _score(pred, truth, cli_model, "--out", str(truth / "scores")) == 2
    assert f"--out {truth / 'scores'} is inside the ground-truth folder {truth}" \
        in capsys.readouterr().err
    assert not (truth / "scores").exists()


def test_threshold_refused_for_a_model_of_more_classes(folders, tmp_path, cli_model, capsys):
    from unet.evaluate.external import score_mapping
    from unet.model import checkpoint

    record = checkpoint.load_model_file(cli_model)
    three = tmp_path / "three.pt"
    checkpoint.save(three, {**record, "class_values": [0, 128, 255]})
    with pytest.raises(ValueError, match=r"--threshold binarises .* reads \[0, 128, 255\]"):
        score_mapping(three, threshold=127)


def test_scores_equal_the_workflows_evaluation(cli_model, tmp_path, capsys):
    """unet predict on the test images, then unet score against their masks: the same Dice,
    image by image, as evaluate_masks gives the same masks (the workflow's per_image.csv)."""
    root = cli_model.parent
    meta, manifest = read_json(root / "cache" / "meta.json"), read_json(root / "manifest.json")
    by_id = {p["id"]: p for p in manifest["pairs"]}
    ids = meta["splits"]["test"]["ids"] + meta["splits"]["val"]["ids"]
    images, truth = tmp_path / "images", tmp_path / "truth"
    images.mkdir()
    truth.mkdir()
    for i in ids:  # each image and mask by its id, as the workflow's pred/<id>.png names it
        os.symlink(by_id[i]["image"], images / f"{i}{Path(by_id[i]['image']).suffix}")
        os.symlink(by_id[i]["mask"], truth / f"{i}{Path(by_id[i]['mask']).suffix}")
    predict_folder([cli_model], images, tmp_path / "pred", PredictSettings(device="cpu"))
    meta["splits"]["test"]["ids"] = ids
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    evaluate_masks(root / "manifest.json", tmp_path / "meta.json", {"raw": tmp_path / "pred"},
                   tmp_path / "wf.csv", tmp_path / "wf.json")
    assert _score(tmp_path / "pred", truth, cli_model) == 0
    with open(tmp_path / "wf.csv") as f:
        workflow = {(r["id"], r["class"]): r for r in csv.DictReader(f)}
    with open(tmp_path / "pred_score" / "per_image.csv") as f:
        ours = {(r["id"], r["class"]): r for r in csv.DictReader(f)}
    assert ours.keys() == workflow.keys() and len(ours) == 2 * len(ids)
    for k, row in ours.items():
        assert [row[c] for c in ("dice", "iou", "hd95", "boundary_f1")] == \
            [workflow[k][c] for c in ("dice", "iou", "hd95", "boundary_f1")], k
    wf = read_json(tmp_path / "wf.json")["methods"]["raw"]
    assert read_json(tmp_path / "pred_score" / "summary.json")["methods"]["pred"][
        "foreground_dice_mean"] == wf["foreground_dice_mean"]


def test_a_damaged_prediction_is_named_with_this_commands_fix(folders, cli_model, capsys):
    pred, truth = folders
    (pred / "b.png").write_bytes((pred / "b.png").read_bytes()[:40])  # cut short
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert f"cannot read image {pred / 'b.png'}" in err
    assert "unet predict" in err and "(and its mask)" not in err


def test_a_prediction_damaged_past_its_header_is_named_too(folders, cli_model, capsys):
    """The header reads (the size check) but the pixels do not: the worker's error too."""
    pred, truth = folders
    data = (pred / "b.png").read_bytes()
    (pred / "b.png").write_bytes(data[:45])  # the image data cut short, the header whole
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert str(pred / "b.png") in err and "unet predict" in err and "snakemake" not in err


def test_per_image_name_column_holds_the_models_class_names(folders, tmp_path, cli_model):
    """per_image.csv's name column (3db0801) gives each class's name, as the workflow's does:
    unet score passed no names, so it stayed blank for a model that records them."""
    from unet.model import checkpoint

    pred, truth = folders
    named = tmp_path / "named.pt"
    checkpoint.save(named, {**checkpoint.load_model_file(cli_model),
                            "class_names": ["background", "polyp"]})
    assert _score(pred, truth, named) == 0
    assert {r["name"] for r in _rows(pred.parent / "pred_score").values()} == {"polyp"}
    assert {r["name"] for r in _rows(pred.parent / "pred_score", 0).values()} == {"background"}


def test_a_truth_damaged_past_its_header_gets_this_commands_fix(folders, cli_model, capsys):
    """The header reads (the size check: TRUTH_FIX) but the pixels do not: the worker's error
    gave the workflow's image fix, 'Replace or remove the file (and its mask)'."""
    pred, truth = folders
    (truth / "b.png").write_bytes((truth / "b.png").read_bytes()[:45])
    assert _score(pred, truth, cli_model) == 2
    err = capsys.readouterr().err
    assert str(truth / "b.png") in err and "give --partial" in err and "its mask)" not in err
