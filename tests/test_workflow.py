"""The whole pipeline through Snakemake on a tiny config: run, rerun, config errors, GPU slots."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TINY, copy_workflow, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture
def done(tiny_run: Path) -> Path:
    return tiny_run


def test_pipeline_outputs(done):
    summary = json.loads((done / "results/synthetic/baseline/metrics/summary.json").read_text())
    assert set(summary["methods"]) == {"raw", "crf", "final"}
    assert summary["images"] == 3 and "empty_mask_convention" in summary
    assert summary["final"]["chosen"] in ("raw", "crf", "largest_component")
    chosen = summary["methods"][summary["final"]["chosen"].replace("largest_component", "final")]
    assert summary["methods"]["final"]["foreground_dice_global"] == chosen[
        "foreground_dice_global"
    ]
    for m in ("raw", "crf", "final"):
        assert 0 <= summary["methods"][m]["foreground_dice_global"] <= 1
    masks = sorted((done / "results/synthetic/baseline/pred/test/masks").glob("*.png"))
    assert (
        len(masks) == 3
        and len(list((done / "results/synthetic/baseline/crf/masks").glob("*.png"))) == 3
        and len(list((done / "results/synthetic/baseline/final/masks").glob("*.png"))) == 3
    )
    rows = (done / "results/synthetic/baseline/metrics/per_image.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * 3 * 2  # header + images x methods x classes
    for log in ("train_unet", "predict_masks_test", "refine_crf", "evaluate_masks"):
        assert (done / f"results/synthetic/baseline/logs/{log}.log").stat().st_size > 0


def test_second_run_has_nothing_to_do(done):
    out = snakemake(done, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "-n")
    assert "Nothing to be done" in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train: {epchs: 3}", "epchs"),
        ("train: {epochs: many}", "epochs"),
        ("crf: {iterations: -1}", "iterations"),
        ("experiments: {wide: {model: {base_width: wide}}}", "base_width"),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, override, key):
    wd = copy_workflow(tmp_path)
    (wd / "bad.yaml").write_text(override)
    out = snakemake(wd, "--cores", "1", "--configfile", TINY, "bad.yaml", check=False)
    assert out.returncode != 0
    assert key in out.stdout + out.stderr
    assert not (wd / "results").exists() and not (wd / "resources").exists()


def _interval(log: Path) -> tuple[datetime, datetime]:
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)", log.read_text(), re.M)
    first, last = (datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f") for s in (stamps[0], stamps[-1]))
    return first, last


def test_gpu_rules_never_overlap(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "two.yaml").write_text(
        "experiments: {baseline: {}, a: {}, b: {model: {base_width: 6}}}\n")
    # 4 cores and 1 thread per job: only the gpu resource can keep the GPU jobs apart.
    snakemake(
        wd,
        "--cores",
        "4",
        "--resources",
        "gpu=1",
        "--configfile",
        TINY,
        "two.yaml",
        "--set-threads",
        "train_unet=1",
        "predict_masks=1",
        "refine_crf=1",
    )
    # Three experiments; baseline trains as a does, so a's model serves both (the first by
    # name trains). Every gpu=1 job's span:
    logs = [wd / f"results/synthetic/{e}/logs/{r}.log" for e in ("baseline", "a", "b")
            for r in ("train_unet", "predict_masks_test", "predict_masks_val")]
    assert [p for p in logs if not p.is_file()] == [logs[0]]  # baseline's train_unet
    spans = sorted(_interval(p) for p in logs[1:])
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"two gpu=1 jobs overlapped: {spans}"
    # ... and the experiments side by side in one table.
    table = (wd / "results/synthetic/experiments.tsv").read_text().splitlines()
    assert {tuple(r.split("\t")[:2]) for r in table[1:]} == {
        (e, m) for e in ("baseline", "a", "b") for m in ("raw", "crf", "final")
    }


def test_report_has_every_section(done):
    snakemake(done, "--cores", "1", "--configfile", TINY, "--report", "report.html")
    html = (done / "report.html").read_text()
    for name in (
        "curves.png",
        "raw_vs_crf.png",
        "overlays.png",
        "metrics.tsv",
        "crf_verdict.txt",
        "environment.yaml",
        "crf_tuning.tsv",
    ):
        assert name in html, f"{name} missing from the report"
    with open(done / "results/synthetic/baseline/report/metrics.tsv") as f:
        shares = {r["class"]: float(r["train_share"]) for r in csv.DictReader(f, delimiter="\t")}
    assert shares["0"] + shares["1"] == pytest.approx(1, abs=1e-3) and 0 < shares["1"] < 0.5
    verdict = (done / "results/synthetic/baseline/report/crf_verdict.txt").read_text()
    # after the training sentence where the tiny model has not learnt a class (said first)
    assert re.match(r"(Training: .*\. )?The CRF (helped|did not help) on the test split", verdict)


def test_the_order_keys_are_written_in_reruns_nothing(done):
    """Only values count: the same config with every section's keys in another order (as a
    sorting YAML dumper writes it) planned the whole pipeline again, params compared in order."""
    import yaml

    def reverse(node):
        if isinstance(node, dict):
            return {k: reverse(node[k]) for k in reversed(list(node))}
        return node

    tiny = yaml.safe_load((done / TINY).read_text())
    (done / "reordered.yaml").write_text(yaml.safe_dump(reverse(tiny), sort_keys=False))
    out = snakemake(done, "--cores", "2", "--configfile", "reordered.yaml", "-n")
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-3000:]
    # 1 and 1.0 are one number: written as an integer, the loss weight retrained everything
    (done / "whole.yaml").write_text("train: {dice_weight: 1}\ncrf: {gaussian_sxy: 3}\n")
    out = snakemake(done, "--cores", "2", "--configfile", TINY, "whole.yaml", "-n")
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-3000:]
    # predict.overlap tiles a sliding window, which a whole-image model never uses
    (done / "overlap.yaml").write_text("predict: {overlap: 0.25}\n")
    out = snakemake(done, "--cores", "2", "--configfile", TINY, "overlap.yaml", "-n")
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-3000:]


def test_predict_a_folder_of_new_images(done):
    folder = done / "resources/predict/new"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sizes = {"rgb": ((91, 67, 3), "RGB"), "grey": ((40, 50), "L"), "rgba": ((33, 120, 4), "RGBA")}
    for name, (shape, mode) in sizes.items():
        Image.fromarray(rng.integers(0, 255, shape, np.uint8), mode).save(folder / f"{name}.png")
    target = "results/synthetic/baseline/predict/new"
    snakemake(done, target, "--cores", "2", "--configfile", TINY)
    for name, (shape, _) in sizes.items():
        mask = Image.open(done / target / f"{name}.png")
        assert mask.size == (shape[1], shape[0]), name
        assert set(np.unique(np.asarray(mask))) <= {0, 255}
    # The installed command line writes the very masks the rule wrote.
    unet = Path(sys.executable).with_name("unet")
    model = done / "results/synthetic/baseline/model.pt"
    subprocess.run([str(unet), "predict", str(model), str(folder), "-o", str(done / "cli"),
                    "--device", "cpu"], check=True, capture_output=True)
    for name in sizes:
        assert (done / "cli" / f"{name}.png").read_bytes() == (
            done / target / f"{name}.png"
        ).read_bytes(), name
    # An image replaced in place makes the masks stale (the folder's own mtime stays).
    Image.fromarray(rng.integers(0, 255, (40, 50), np.uint8), "L").save(folder / "grey.png")
    planned = snakemake(done, target, "--cores", "2", "--configfile", TINY, "-n")
    assert "predict_folder" in planned.stdout + planned.stderr
    # ... and so does one replaced by an older-dated file (cp -p, rsync -a, unzip keep dates)
    snakemake(done, target, "--cores", "2", "--configfile", TINY)
    Image.fromarray(rng.integers(0, 255, (40, 50), np.uint8), "L").save(folder / "grey.png")
    os.utime(folder / "grey.png", (1e9, 1e9))  # dated 2001
    planned = snakemake(done, target, "--cores", "2", "--configfile", TINY, "-n")
    assert "predict_folder" in planned.stdout + planned.stderr


def test_predict_folder_takes_each_images_region_of_interest(done):
    """predict.roi: the rule's new images with their regions of interest, in the folder; a
    setting of predict_folder only, so predict_masks does not rerun when it changes."""
    folder = done / "resources/predict/fov"
    (folder / "fov").mkdir(parents=True)
    rng = np.random.default_rng(1)
    inside = np.zeros((40, 50), bool)
    inside[10:30, 5:45] = True
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), np.uint8)).save(folder / f"{name}.png")
        Image.fromarray(inside.astype(np.uint8) * 255).save(folder / f"fov/{name}.png")
    (done / "roi.yaml").write_text('predict: {roi: "fov/{id}.png"}\n')
    target = "results/synthetic/baseline/predict/fov"
    snakemake(done, target, "--cores", "2", "--configfile", TINY, "roi.yaml")
    for name in ("a", "b"):
        mask = np.asarray(Image.open(done / target / f"{name}.png"))
        assert mask.shape == inside.shape and (mask[~inside] == 0).all(), name
    assert sorted(p.name for p in (done / target).glob("*.png")) == ["a.png", "b.png"]
    planned = snakemake(done, "--cores", "2", "--configfile", TINY, "roi.yaml", "-n")
    assert "Nothing to be done" in planned.stdout + planned.stderr  # the report's config too
    # A region of interest replaced in place makes the folder's masks stale.
    Image.fromarray((~inside).astype(np.uint8) * 255).save(folder / "fov/b.png")
    planned = snakemake(done, target, "--cores", "2", "--configfile", TINY, "roi.yaml", "-n")
    assert "predict_folder" in planned.stdout + planned.stderr


def test_multiclass_pipeline(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "multi.yaml").write_text("dataset: {synthetic: {classes: 3}}\n")
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "multi.yaml")
    summary = json.loads((wd / "results/synthetic/baseline/metrics/summary.json").read_text())
    with open(wd / "results/synthetic/baseline/metrics/per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert summary["class_values"] == [0, 85, 170, 255]
    for method in ("raw", "crf", "final"):
        assert list(summary["methods"][method]["classes"]) == ["0", "1", "2", "3"]
        # The summary's per-image means are the means of per_image.csv's rows: a class's over
        # the images that hold it (target or prediction) or hold no scored class.
        mine = [r for r in rows if r["method"] == method and r["class"] != "0"]
        holds = {(r["id"], r["class"]) for r in mine
                 if (r["target_px"], r["predicted_px"]) != ("0", "0")}
        some = {i for i, _ in holds}
        for c in ("1", "2", "3"):
            dice = [float(r["dice"]) for r in mine if r["class"] == c]
            kept = [float(r["dice"]) for r in mine
                    if r["class"] == c and ((r["id"], c) in holds or r["id"] not in some)]
            mean = summary["methods"][method]["classes"][c]["mean_per_image"]["dice"]
            # (every image for a class no image holds: held false, left blank in the report)
            assert len(dice) == summary["images"] and mean == pytest.approx(np.mean(kept or dice))
    for folder in ("pred/test/masks", "crf/masks", "final/masks"):
        for png in (wd / "results/synthetic/baseline" / folder).glob("*.png"):
            assert set(np.unique(np.asarray(Image.open(png)))) <= {0, 85, 170, 255}


def test_cross_validation_pipeline(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "folds.yaml").write_text("split: {folds: 3}\n")
    args = ("--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "folds.yaml")
    snakemake(wd, *args)
    exp = wd / "results/synthetic/baseline"
    split = json.loads((wd / "results/synthetic/split.json").read_text())
    assert len(split["folds"]) == 3 and split["val"] == split["folds"][0]
    assert not (exp / "model.pt").exists()  # no single model: the folds replace it
    for k in range(3):
        assert f"fold {k} on cpu" in (exp / f"logs/train_fold_{k}.log").read_text()
        assert (exp / f"folds/{k}/model.pt").exists()
    assert "(3 model(s), whole images)" in (exp / "logs/predict_masks_test.log").read_text()
    # val (= fold 0) is predicted by fold 0's model alone
    assert "(1 model(s), whole images)" in (exp / "logs/predict_masks_val.log").read_text()
    rows = (exp / "report/cross_validation.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows] == ["fold", "0", "1", "2", "mean", "sd"]
    folds = [float(r.split("\t")[2]) for r in rows[1:4]]  # each fold's kept val Dice
    assert float(rows[4].split("\t")[2]) == pytest.approx(np.mean(folds), abs=2e-4)
    summary = json.loads((exp / "metrics/summary.json").read_text())
    assert 0.0 <= summary["methods"]["raw"]["classes"]["1"]["global"]["dice"] <= 1.0
    assert "Nothing to be done" in snakemake(wd, *args).stderr
