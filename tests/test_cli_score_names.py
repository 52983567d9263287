"""`unet score`'s pairing by --mask-stem (KITTI Road's um_road_000000 for um_000000) and its
model taken from the prediction folder's record when --model is not given."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from unet.cli import main

KITTI = ["--mask-stem", r"(.+)_(\d+)", r"\1_road_\2"]


def _mask(path: Path, rows: int) -> None:
    """A 10x10 0/255 mask, its first `rows` rows foreground."""
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.zeros((10, 10), np.uint8)
    a[:rows] = 255
    Image.fromarray(a).save(path)


def _score(pred: Path, truth: Path, *more: str) -> int:
    return main(["score", str(pred), str(truth), "--threads", "1", *more])


def _dice(out: Path) -> dict[str, float]:
    with open(out / "per_image.csv") as f:
        return {r["id"]: float(r["dice"]) for r in csv.DictReader(f) if r["class"] == "1"}


def _kitti(tmp_path: Path) -> tuple[Path, Path]:
    """Predictions um_000000/um_000001; truth um_road_* (Dice 1 and 2/3) beside um_lane_*."""
    pred, truth = tmp_path / "pred", tmp_path / "gt_image_2"
    for k, (p, t) in enumerate([(2, 2), (2, 4)]):
        _mask(pred / f"um_{k:06d}.png", p)
        _mask(truth / f"um_road_{k:06d}.png", t)
        _mask(truth / f"um_lane_{k:06d}.png", 1)
    return pred, truth


def test_mask_stem_pairs_a_word_inside_the_name(tmp_path, cli_model, capsys):
    pred, truth = _kitti(tmp_path)
    assert _score(pred, truth, "--model", str(cli_model)) == 2  # by name: nothing pairs
    assert "--mask-stem" in capsys.readouterr().err
    assert _score(pred, truth, "--model", str(cli_model), *KITTI) == 0
    dice = _dice(tmp_path / "pred_score")  # 20 of 40 truth px predicted, none extra: 2/3
    assert list(dice) == ["um_000000", "um_000001"] and dice["um_000000"] == 1.0
    assert abs(dice["um_000001"] - 2 / 3) < 1e-9
    assert "um_lane_000000, um_lane_000001" in capsys.readouterr().err  # named, not refused


def test_mask_stem_names_the_stem_looked_for(tmp_path, cli_model, capsys):
    pred, truth = _kitti(tmp_path)
    (truth / "um_road_000001.png").unlink()
    assert _score(pred, truth, "--model", str(cli_model), *KITTI) == 2
    assert "um_000001 (mask um_road_000001.*)" in capsys.readouterr().err
    assert _score(pred, truth, "--model", str(cli_model), *KITTI, "--partial") == 0
    assert list(_dice(tmp_path / "pred_score")) == ["um_000000"]


def test_mask_stem_refused_with_a_prefix_or_a_bad_pattern(tmp_path, cli_model, capsys):
    pred, truth = _kitti(tmp_path)
    assert _score(pred, truth, "--model", str(cli_model), *KITTI, "--mask-prefix", "x") == 2
    assert "--mask-prefix/--mask-suffix" in capsys.readouterr().err
    assert _score(pred, truth, "--model", str(cli_model), "--mask-stem", "(.+", "x") == 2
    assert "--mask-stem PATTERN '(.+'" in capsys.readouterr().err
    assert _score(pred, truth, "--model", str(cli_model), "--mask-stem", "(.+)", r"\2") == 2
    assert "--mask-stem REPLACE" in capsys.readouterr().err


def _predicted(tmp_path: Path, model: Path) -> tuple[Path, Path]:
    """unet predict's folder for two 60x40 images (its record names `model`), and a truth
    folder of the same masks."""
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_folder

    images, pred, truth = tmp_path / "images", tmp_path / "pred", tmp_path / "truth"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), np.uint8)).save(images / f"{name}.png")
    predict_folder([model], images, pred, PredictSettings(device="cpu"))
    shutil.copytree(pred, truth, ignore=shutil.ignore_patterns(".*"))
    return pred, truth


def test_model_defaults_to_the_one_the_record_names(tmp_path, cli_model, capsys):
    model = tmp_path / "model.pt"
    shutil.copy(cli_model, model)
    pred, truth = _predicted(tmp_path, model)
    assert _score(pred, truth) == 0  # --model was required
    summary = json.loads((tmp_path / "pred_score" / "summary.json").read_text())
    assert summary["model"] == str(model) and summary["images"] == 2
    other = tmp_path / "other.pt"
    other.write_bytes(model.read_bytes() + b"\0")  # other weights: another digest
    assert _score(pred, truth, "--model", str(other)) == 2  # was scored in its values
    err = capsys.readouterr().err
    assert f"--model {other}" in err and str(model) in err and "leave --model out" in err
    assert _score(pred, truth, "--model", str(model)) == 0
    os.replace(other, model)  # retrained since it predicted them
    assert _score(pred, truth) == 2
    assert f"{model} holds other weights" in capsys.readouterr().err
    model.unlink()
    assert _score(pred, truth) == 2
    assert f"{model}: no such file" in capsys.readouterr().err
    (pred / ".unet-predict.jsonl").unlink()  # masks of no record: --model as before
    assert _score(pred, truth) == 2 and "give --model" in capsys.readouterr().err
    assert _score(pred, truth, "--model", str(cli_model)) == 0
