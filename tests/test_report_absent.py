"""The report's metrics table and per-class plot for a class that no test image's ground truth
or prediction holds: its scores are 0/0, 1.0 by convention, which read as a perfect class (a
nucleus class found only in training images showed Dice 1.0000, boundary F1 1.0000 and HD95 0
in metrics.tsv and full-height bars in raw_vs_crf.png)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from unet.evaluate.boundary import image_diagonal, image_scores
from unet.evaluate.evaluate import summarise
from unet.report import charts
from unet.report.plot import metrics_table


def _summary() -> dict:
    target = np.zeros((37, 101), np.uint8)
    target[4:16, 0:30] = 1  # class 1 at the border; class 2 in no image
    pred = np.roll(target, 3, axis=1)
    scores = image_scores(pred, target, 3)
    result = {"id": "a", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores}}
    return {"class_values": [0, 100, 200], "class_names": ["background", "cell", "nucleus"],
            "methods": summarise([result], ["raw"], 3)}


def test_the_table_leaves_an_absent_class_blank(tmp_path):
    metrics_table(_summary(), tmp_path / "t.tsv")
    with open(tmp_path / "t.tsv") as f:
        rows = {r["class"]: r for r in csv.DictReader(f, delimiter="\t")}
    scores = [k for k in rows["2"] if k.startswith(("global_", "mean_"))]
    assert {rows["2"][k] for k in scores} == {""}  # not 1.0000 and 0.0000
    assert rows["2"]["name"] == "nucleus"
    assert float(rows["1"]["global_dice"]) < 1  # a held class keeps its scores


def test_the_plot_draws_no_bar_for_an_absent_class(tmp_path, monkeypatch):
    drawn = []
    real = charts.plt.Axes.bar

    def bar(ax, x, heights, *args, **kwargs):
        drawn.append(list(heights))
        return real(ax, x, heights, *args, **kwargs)

    monkeypatch.setattr(charts.plt.Axes, "bar", bar)
    charts.plot_methods(_summary(), tmp_path / "m.png")
    assert len(drawn) == 3  # Dice, boundary F1, HD95
    for heights in drawn:
        assert np.isnan(heights[2]) and not np.isnan(heights[1])
    assert Image.open(tmp_path / "m.png").size[0] > 0


def _one_class_each(classes: int = 3) -> list[dict]:
    """Images each holding one class of 1..classes, found 3 px off (Dice 0.75, HD95 3)."""
    results = []
    for c in range(1, classes + 1):
        target = np.zeros((24, 24), np.uint8)
        target[4:16, 4:16] = c
        scores = image_scores(np.roll(target, 3, axis=1), target, classes + 1)
        results.append({"id": str(c), "diagonal": image_diagonal(target.shape),
                        "scores": {"raw": scores}})
    return results


def test_a_class_mean_over_images_leaves_out_the_images_without_it():
    # metrics.tsv's mean Dice, boundary F1 and HD95 of a class counted each image lacking it
    # as 1, 1 and 0: three images, one class each, every class found with Dice 0.75, boundary
    # F1 0.59 and HD95 3 px, read 0.9167, 0.8636 and 1.00 for every class.
    results = _one_class_each()
    raw = summarise(results, ["raw"], 4)["raw"]
    own = results[0]["scores"]["raw"]
    for c in ("1", "2", "3"):
        mean = raw["classes"][c]["mean_per_image"]
        assert mean["dice"] == pytest.approx(0.75)
        assert mean["boundary_f1"] == pytest.approx(own["boundary_f1"][1])
        assert mean["hd95"] == pytest.approx(3.0)
    assert raw["foreground_dice_mean"] == pytest.approx(0.75)


def test_an_image_holding_no_class_still_counts_as_found():
    # As in foreground_dice_mean (the usual mean Dice per image of binary data): an image whose
    # target and prediction hold no foreground class scores 1 for each.
    results = _one_class_each(1)
    empty = np.zeros((24, 24), np.uint8)
    results.append({"id": "e", "diagonal": image_diagonal(empty.shape),
                    "scores": {"raw": image_scores(empty, empty, 2)}})
    raw = summarise(results, ["raw"], 2)["raw"]
    assert raw["classes"]["1"]["mean_per_image"]["dice"] == pytest.approx((0.75 + 1) / 2)
    assert raw["foreground_dice_mean"] == pytest.approx((0.75 + 1) / 2)


def test_the_summary_states_the_rule(tmp_path):
    from unet.common.fileio import write_json
    from unet.evaluate.evaluate import evaluate_masks

    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 2:5] = 255
    for name in ("gt", "raw"):
        (tmp_path / name).mkdir()
        Image.fromarray(mask).save(tmp_path / name / "a.png")
    write_json(tmp_path / "manifest.json",
               {"pairs": [{"id": "a", "image": "", "mask": str(tmp_path / "gt/a.png")}]})
    write_json(tmp_path / "meta.json", {"class_values": [0, 255],
                                        "splits": {"test": {"ids": ["a"]}}})
    summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                             {"raw": tmp_path / "raw"}, tmp_path / "rows.csv", tmp_path / "s.json")
    assert "lacks only this class" in summary["mean_per_image_rule"]


def test_the_summary_gives_the_mean_iou_with_the_background_as_voc_counts_it():
    # foreground_iou_global leaves class 0 (background) out; VOC's mIoU, which the README
    # named it as, averages all 21 classes, background included.
    target = np.zeros((24, 24), np.uint8)
    target[4:16, 4:16] = 1
    target[18:22, 2:8] = 2
    pred = np.roll(target, 2, axis=1)
    scores = image_scores(pred, target, 4)  # class 3: in no image, left out
    result = {"id": "a", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores}}
    raw = summarise([result], ["raw"], 4)["raw"]
    assert raw["foreground_iou_global"] == pytest.approx(np.mean(scores["iou"][1:3]))
    assert raw["iou_global_all_classes"] == pytest.approx(np.mean(scores["iou"][:3]))


def test_the_scores_share_a_zero_to_one_axis(tmp_path, monkeypatch):
    # Without an absent class's 1.0 bar the axes scaled to the data: a Dice of 0.09 filled the
    # panel like a perfect one.
    axes = []
    real = charts.save_figure

    def save(fig, path):
        axes.extend(fig.axes)
        real(fig, path)

    monkeypatch.setattr(charts, "save_figure", save)
    charts.plot_methods(_summary(), tmp_path / "m.png")
    assert axes[0].get_ylim() == (0, 1) and axes[1].get_ylim() == (0, 1)


def test_an_unreadable_predicted_mask_is_named_with_the_step_to_rerun(tmp_path):
    # A predicted mask missing (deleted inside pred/test/masks, which Snakemake does not see)
    # or truncated was reported as "cannot read image ...: Replace or remove the file (and
    # its mask)", advice meant for the user's data that would have them delete a ground truth.
    from unet.common.labels import MaskMapping
    from unet.evaluate.evaluate import ScoreJob, score_image

    mask = np.zeros((8, 8), np.uint8)
    Image.fromarray(mask).save(tmp_path / "gt.png")
    (tmp_path / "crf.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    for method, path in (("raw", tmp_path / "missing.png"), ("crf", tmp_path / "crf.png")):
        job = ScoreJob("a", str(tmp_path / "gt.png"), {method: str(path)}, MaskMapping((0, 255)), 2)
        with pytest.raises(Exception) as err:
            score_image(job)
        text = str(err.value)
        assert str(path) in text and "Replace or remove" not in text
        assert {"raw": "predict_masks", "crf": "refine_crf"}[method] in text
