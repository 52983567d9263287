"""Classes that neither the ground truth nor the prediction of a whole split holds (0/0, Dice
1.0 by convention) are left out of the foreground means. With VOC's 20 classes and a small
validation split, most classes are absent from it: the untrained first epoch, predicting two
classes everywhere, scored 1.0 on each of the others and was kept as the best model."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from tests.test_value_groups import ROAD, SIDEWALK, _label_ids, _masks
from tests.test_value_spaces import H, W, _preprocess, _train_and_predict
from unet.cache.settings import settings_from_config
from unet.evaluate.metrics import foreground_dice, scores_from_confusion


def test_a_class_absent_from_target_and_prediction_is_not_averaged():
    cm = np.zeros((4, 4), np.int64)
    cm[0, 0], cm[1, 1], cm[1, 2], cm[2, 2] = 50, 6, 2, 4  # class 3: nowhere
    dice = scores_from_confusion(cm)["dice"]
    assert dice[3] == 1.0  # the per-class convention stands
    assert foreground_dice(cm) == pytest.approx(np.mean(dice[1:3]))
    assert foreground_dice(cm, first=0) == pytest.approx(np.mean(dice[:3]))
    cm[0, 3] = 1  # predicted once, absent from the target: it counts, as 0
    assert foreground_dice(cm) == pytest.approx(np.mean(scores_from_confusion(cm)["dice"][1:]))
    assert foreground_dice(np.diag([9, 0, 0])) == 1.0  # no foreground anywhere: nothing missed


def test_val_dice_leaves_out_a_class_the_split_does_not_hold(tmp_path):
    _label_ids(tmp_path)
    masks = _masks(values=[ROAD, SIDEWALK, [26, 27, 28], 33], unlisted="ignore")  # 33: none
    _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    _train_and_predict(tmp_path)
    with open(tmp_path / "history.csv") as f:
        row = list(csv.DictReader(f))[-1]
    d = [float(row[f"val_dice_{c}"]) for c in range(4)]
    assert float(row["val_dice"]) == pytest.approx(np.mean(d[1:3] + [d[3]] * (d[3] < 1)))


def test_the_headline_leaves_out_absent_classes(tmp_path):
    from PIL import Image

    from unet.evaluate.evaluate import evaluate_masks

    truth = _label_ids(tmp_path)
    masks = _masks(values=[ROAD, SIDEWALK, [26, 27, 28], 33], unlisted="ignore")
    _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    pred = tmp_path / "pred"
    pred.mkdir()
    values = np.array([ROAD, SIDEWALK, 26], np.uint8)
    for i in (6, 7):
        guess = np.where(truth[i] == 255, 0, truth[i])
        guess[: H // 2][guess[: H // 2] == 0] = 1
        Image.fromarray(values[guess]).save(pred / f"p{i}.png")
    summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "cache" / "meta.json",
                             {"raw": pred}, tmp_path / "pi.csv", tmp_path / "s.json")
    raw = summary["methods"]["raw"]
    dice = [raw["classes"][str(c)]["global"]["dice"] for c in range(4)]
    assert dice[3] == 1.0 and raw["foreground_dice_global"] == pytest.approx(np.mean(dice[1:3]))


def test_per_image_rows_give_pixel_counts_and_the_ranking_skips_absent_classes(tmp_path):
    # per_image.csv could not tell a class absent from an image (Dice 1.0 by convention) from
    # one found perfectly, and the overlays' best and worst images were ranked by means over
    # every class: with VOC's 20, mostly the absent ones.
    from unet.common.labels import MaskMapping
    from unet.evaluate.evaluate import ScoreJob, score_image, write_rows
    from unet.report.figures import best_and_worst

    mapping = MaskMapping((0, 1, 2, 3))
    target = np.zeros((H, W), np.uint8)
    target[:4, :4] = 1
    good, bad = target.copy(), target.copy()
    bad[:4, :2] = 0  # half of class 1 missed
    bad[10:12, 10:12] = 2  # and a class the image lacks predicted
    rows = []
    for name, pred in (("good", good), ("bad", bad), ("worse", np.zeros_like(target))):
        for kind, m in (("gt", target), ("raw", pred)):
            Image.fromarray(m).save(tmp_path / f"{name}_{kind}.png")
        rows.append(score_image(ScoreJob(name, str(tmp_path / f"{name}_gt.png"),
                                         {"raw": str(tmp_path / f"{name}_raw.png")}, mapping, 2)))
    write_rows(tmp_path / "pi.csv", rows, mapping.labels())
    with open(tmp_path / "pi.csv") as f:
        table = {(r["id"], r["class"]): r for r in csv.DictReader(f)}
    assert (table["bad", "1"]["target_px"], table["bad", "1"]["predicted_px"]) == ("16", "8")
    assert (table["bad", "2"]["target_px"], table["bad", "2"]["predicted_px"]) == ("0", "4")
    ranked = dict(best_and_worst(tmp_path / "pi.csv", n=1))
    assert list(ranked) == ["good", "worse"]
    assert ranked["good"]["raw"] == 1.0 and ranked["worse"]["raw"] == 0.0  # class 1 alone


def test_the_mean_over_images_averages_the_classes_each_image_holds(tmp_path):
    from unet.common.labels import MaskMapping
    from unet.evaluate.evaluate import ScoreJob, score_image, summarise

    mapping = MaskMapping((0, 1, 2, 3))
    target = np.zeros((H, W), np.uint8)
    target[:4, :4] = 1
    half = target.copy()
    half[:4, :2] = 0
    results = []
    for name, pred in (("good", target), ("half", half)):
        for kind, m in (("gt", target), ("raw", pred)):
            Image.fromarray(m).save(tmp_path / f"{name}_{kind}.png")
        job = ScoreJob(name, str(tmp_path / f"{name}_gt.png"),
                       {"raw": str(tmp_path / f"{name}_raw.png")}, mapping, 2)
        results.append(score_image(job))
    raw = summarise(results, ["raw"], 4)["raw"]
    # Class 1 alone is held: Dice 1 and 2/3. Classes 2 and 3 (1.0 in every image) are left out.
    assert raw["foreground_dice_mean"] == pytest.approx((1 + 2 / 3) / 2)


def test_the_mean_iou_is_given_beside_the_dice(tmp_path):
    # mIoU is the figure Cityscapes, ADE20K and VOC report.
    from unet.evaluate.metrics import foreground_iou
    from unet.report.compare import compare_experiments

    cm = np.zeros((4, 4), np.int64)
    cm[0, 0], cm[1, 1], cm[1, 2], cm[2, 2] = 50, 6, 2, 4
    iou = scores_from_confusion(cm)["iou"]
    assert foreground_iou(cm) == pytest.approx(np.mean(iou[1:3]))
    assert foreground_iou(cm, first=0) == pytest.approx(np.mean(iou[:3]))
    per_class = {str(c): {"mean_per_image": {"boundary_f1": 0.5 * c, "hd95": 1.0}}
                 for c in range(3)}
    summary = {"scored_classes": [0, 1, 2], "methods": {"raw": {
        "foreground_dice_global": 0.8, "foreground_dice_mean": 0.7, "foreground_iou_global": 0.6,
        "pixel_accuracy": 0.9, "classes": per_class}}}
    (tmp_path / "s.json").write_text(__import__("json").dumps(summary))
    compare_experiments({"a": tmp_path / "s.json"}, tmp_path / "t.tsv")
    with open(tmp_path / "t.tsv") as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    assert row["foreground_iou_global"] == "0.6000"
    assert row["boundary_f1_mean"] == "0.5000"  # classes 0, 1 and 2: class 0 is scored here


def test_the_experiments_table_leaves_out_absent_classes(tmp_path):
    # experiments.tsv averaged boundary F1 and HD95 over every scored class: two classes no
    # image held (boundary F1 1, HD95 0 by convention) lifted 0.950 to 0.983 and cut 3.6 to 1.2.
    from unet.common.fileio import write_json
    from unet.evaluate.boundary import image_scores
    from unet.evaluate.evaluate import image_diagonal, summarise
    from unet.report.compare import compare_experiments

    target = np.zeros((24, 24), np.uint8)
    target[4:16, 4:16] = 1
    pred = np.roll(target, 2, axis=1)
    scores = image_scores(pred, target, 4)
    result = {"id": "a", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores}}
    summary = summarise([result], ["raw"], 4)
    write_json(tmp_path / "summary.json", {"methods": summary, "scored_classes": [1, 2, 3]})
    compare_experiments({"e": tmp_path / "summary.json"}, tmp_path / "experiments.tsv")
    with open(tmp_path / "experiments.tsv") as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    assert float(row["boundary_f1_mean"]) == pytest.approx(scores["boundary_f1"][1], abs=1e-4)
    assert float(row["hd95_mean"]) == pytest.approx(scores["hd95"][1], abs=0.01)


def test_per_image_rows_keep_the_precision_of_large_images(tmp_path):
    # Six significant digits put HD95 0.004 px off on a 1600x1601 image, and wrote a Dice of
    # 0.99999988 as 1, a perfect score.
    from unet.evaluate.evaluate import image_diagonal, write_rows

    cm = np.array([[1, 0], [1, 8_000_000]], np.int64)
    scores = {k: np.array([1.0, 0.99999988]) for k in ("dice", "iou", "precision", "recall",
                                                        "boundary_f1")}
    scores.update(hd95=np.array([0.0, 2247.1857]), accuracy=0.99999988, confusion=cm)
    diagonal = image_diagonal((1600, 1601))
    write_rows(tmp_path / "p.csv", [{"id": "a", "diagonal": diagonal,
                                     "scores": {"raw": scores}}], [0, 255])
    with open(tmp_path / "p.csv") as f:
        row = list(csv.DictReader(f))[1]
    assert float(row["hd95"]) == pytest.approx(2247.1857, abs=1e-4)
    assert float(row["image_diagonal_px"]) == pytest.approx(diagonal, abs=1e-4)
    assert row["dice"] != "1" and float(row["dice"]) == pytest.approx(0.99999988, abs=1e-9)


def test_the_experiments_table_averages_boundaries_over_the_classes_each_image_holds(tmp_path):
    # foreground_dice_mean averages each image's held classes, but boundary_f1_mean and
    # hd95_mean beside it averaged per-class means in which an image lacking the class counts
    # boundary F1 1 and HD95 0: three images, each holding one of three classes found with
    # boundary F1 0.59 and HD95 3, read 0.86 and 1.00.
    from unet.common.fileio import write_json
    from unet.evaluate.boundary import image_scores
    from unet.evaluate.evaluate import image_diagonal, summarise
    from unet.report.compare import compare_experiments

    results = []
    for c in (1, 2, 3):
        target = np.zeros((24, 24), np.uint8)
        target[4:16, 4:16] = c
        scores = image_scores(np.roll(target, 3, axis=1), target, 4)
        results.append({"id": str(c), "diagonal": image_diagonal(target.shape),
                        "scores": {"raw": scores}})
    summary = summarise(results, ["raw"], 4)
    write_json(tmp_path / "summary.json", {"methods": summary, "scored_classes": [1, 2, 3]})
    compare_experiments({"e": tmp_path / "summary.json"}, tmp_path / "experiments.tsv")
    with open(tmp_path / "experiments.tsv") as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    assert float(row["foreground_dice_mean"]) == pytest.approx(0.75, abs=1e-4)
    assert float(row["boundary_f1_mean"]) == pytest.approx(scores["boundary_f1"][3], abs=1e-4)
    assert float(row["hd95_mean"]) == pytest.approx(3.0, abs=0.01)
