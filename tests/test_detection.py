"""summary.json counts images, not only pixels: how many test images hold foreground, how many
of them a method detected or missed, and how many empty images it flagged. On a sparse test
split (8 of 9 images empty) the pixel scores did not say that a model flagged every empty
image, nor that a post-processing left them empty."""

from __future__ import annotations

import numpy as np

from unet.evaluate.boundary import image_diagonal, image_scores
from unet.evaluate.evaluate import summarise


def _result(i: int, target: np.ndarray, pred: np.ndarray) -> dict:
    scores = image_scores(pred, target, 3, 255, 2)
    return {"id": f"img{i}", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores}}


def _masks() -> list[tuple[np.ndarray, np.ndarray]]:
    empty = np.zeros((16, 16), np.uint8)
    blob = empty.copy()
    blob[4:7, 4:7] = 1  # a 9 px object of class 1
    other = empty.copy()
    other[10:12, 10:12] = 2
    return [
        (empty, empty),  # empty, left empty
        (empty, blob),  # empty, a blob predicted: an image-level false positive
        (blob, blob),  # found
        (blob, empty),  # missed
        (other, blob),  # class 2 missed, class 1 flagged on an image without it
    ]


def test_summary_counts_images_detected_missed_and_flagged():
    results = [_result(i, t, p) for i, (t, p) in enumerate(_masks())]
    images = summarise(results, ["raw"], 3, 1)["raw"]["images"]
    assert images["1"] == {"positive": 2, "negative": 3, "detected": 1, "missed": 1,
                           "false_positive": 2, "true_negative": 1}
    assert images["2"] == {"positive": 1, "negative": 4, "detected": 0, "missed": 1,
                           "false_positive": 0, "true_negative": 4}
    # any foreground: image 4 holds some and some is predicted, so it counts as detected
    assert images["any"] == {"positive": 3, "negative": 2, "detected": 2, "missed": 1,
                             "false_positive": 1, "true_negative": 1}
    assert "0" not in images  # background is not scored


def test_ignored_pixels_do_not_make_an_image_positive():
    target = np.full((8, 8), 255, np.uint8)
    target[:4] = 0
    pred = np.zeros((8, 8), np.uint8)
    pred[6:, 6:] = 1  # predicted only where the target is ignored
    images = summarise([_result(0, target, pred)], ["raw"], 3, 1)["raw"]["images"]
    assert images["any"]["negative"] == 1 and images["any"]["false_positive"] == 0


def test_the_report_table_shows_each_class_image_counts(tmp_path):
    # summary.json held the counts, but the report's table (metrics.tsv) did not: a user
    # reading the report could not see that a model flagged every empty image
    import csv

    from unet.report.plot import metrics_table

    results = [_result(i, t, p) for i, (t, p) in enumerate(_masks())]
    summary = {"class_values": [0, 1, 2], "methods": summarise(results, ["raw"], 3, 1)}
    metrics_table(summary, tmp_path / "table.tsv")
    with open(tmp_path / "table.tsv") as f:
        rows = {r["class"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert [rows["1"][k] for k in ("images_held", "images_missed", "images_false_positive")] \
        == ["2", "1", "2"]
    assert rows["2"]["images_missed"] == "1" and rows["2"]["images_false_positive"] == "0"
    assert rows["0"]["images_held"] == ""  # background: not scored per image
    del summary["methods"]["raw"]["images"]  # a summary from before the counts
    metrics_table(summary, tmp_path / "old.tsv")
    with open(tmp_path / "old.tsv") as f:
        assert {r["images_missed"] for r in csv.DictReader(f, delimiter="\t")} == {""}


def test_means_over_the_images_that_hold_the_class():
    # MVTec-style inspection data: two defect-free images and one with a defect, and a model
    # that finds nothing. Each empty-vs-empty image scores 1 by convention, so the mean over
    # images read 0.667 against a global 0.0; the mean over the images that hold a defect is 0.
    empty, blob = _masks()[0][0], _masks()[2][0]
    results = [_result(i, t, empty) for i, t in enumerate([empty, empty, blob])]
    raw = summarise(results, ["raw"], 3, 1)["raw"]
    assert raw["foreground_dice_mean"] == 2 / 3 and raw["foreground_dice_global"] == 0
    assert raw["foreground_dice_mean_positive"] == 0
    one = raw["classes"]["1"]["mean_positive"]
    assert one["dice"] == 0 and one["hd95"] == image_diagonal((16, 16))  # missed: the penalty
    assert raw["classes"]["2"]["mean_positive"]["dice"] is None  # no image holds class 2
    # mixed: class 1 found on one of its two images; class 2's image scores 0 (missed, and
    # class 1 predicted there); the empty images are left out, found or flagged
    raw = summarise([_result(i, t, p) for i, (t, p) in enumerate(_masks())], ["raw"], 3, 1)["raw"]
    assert raw["foreground_dice_mean"] == 2 / 5 and raw["foreground_dice_mean_positive"] == 1 / 3
    assert raw["classes"]["1"]["mean_positive"]["dice"] == 1 / 2
    assert raw["classes"]["1"]["mean_per_image"]["dice"] == 2 / 5


def test_the_report_tables_show_the_mean_over_images_holding_the_class(tmp_path):
    import csv
    import json

    from unet.report.compare import compare_experiments
    from unet.report.plot import metrics_table

    results = [_result(i, t, p) for i, (t, p) in enumerate(_masks())]
    summary = {"class_values": [0, 1, 2], "methods": summarise(results, ["raw"], 3, 1)}
    metrics_table(summary, tmp_path / "table.tsv")
    with open(tmp_path / "table.tsv") as f:
        rows = {r["class"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert rows["1"]["mean_dice"] == "0.4000" and rows["1"]["mean_dice_positive"] == "0.5000"
    (tmp_path / "s.json").write_text(json.dumps(summary))
    compare_experiments({"e": tmp_path / "s.json"}, tmp_path / "experiments.tsv")
    with open(tmp_path / "experiments.tsv") as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    assert row["foreground_dice_mean"] == "0.4000"
    assert row["foreground_dice_mean_positive"] == "0.3333"
    del summary["methods"]["raw"]["foreground_dice_mean_positive"]  # an older summary: blank
    (tmp_path / "s.json").write_text(json.dumps(summary))
    compare_experiments({"e": tmp_path / "s.json"}, tmp_path / "experiments.tsv")
    with open(tmp_path / "experiments.tsv") as f:
        assert next(csv.DictReader(f, delimiter="\t"))["foreground_dice_mean_positive"] == ""
