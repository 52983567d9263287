"""The HTML report's captions (report/*.rst) state how its figures and tables were made."""

from __future__ import annotations

from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "report"


def _caption(name: str) -> str:
    return " ".join((REPORT / name).read_text().split())


def test_the_verdict_caption_states_the_margin_a_post_processing_must_win_by():
    # finalize_masks keeps the raw masks unless a candidate beats them on validation by at
    # least postprocess.min_gain: "whichever scored best" was false for a smaller gain.
    text = _caption("verdict.rst")
    assert "postprocess.min_gain" in text
    assert "whichever scored best" not in text


def test_the_curves_caption_names_the_loss_as_configured():
    # train.dice_weight 0 trains on cross-entropy alone (losses.py): "cross-entropy + soft
    # Dice" was false there.
    text = _caption("curves.rst")
    assert "train.dice_weight" in text


def test_the_overlays_caption_covers_small_test_splits_and_the_crf_off():
    # best_and_worst shows every test image when there are four or fewer (three rows for
    # three), and plot_results draws no CRF panel with crf.enabled: false; the caption promised
    # two best, two worst and a CRF panel whatever the run.
    text = _caption("overlays.rst")
    assert "four or fewer" in text and "crf.enabled: false" in text


def test_the_table_caption_names_every_column_it_does_not_explain_in_words():
    # metrics.tsv's value, name and pixel_accuracy columns were not in the caption, and
    # pixel_accuracy, one figure per method over every class repeated on each class's row,
    # read as the class's own; the image counts' blanks on the background rows went unsaid.
    text = _caption("table.rst")
    assert "pixel_accuracy" in text and "every class" in text
    assert "value (" in text and "name (" in text and "masks.names" in text
    assert "blank for the background" in text


def test_the_experiments_caption_names_the_miou_column():
    # experiments.tsv holds foreground_iou_global (the mIoU) beside the Dice; the caption
    # listed every other column and not that one.
    text = _caption("experiments.rst")
    assert "IoU" in text


def test_the_overlays_caption_counts_the_painted_classes_for_its_legend():
    # figures.LEGEND_ALL counts the painted classes (background aside): VOC's 21 classes paint
    # 20, all named in the legend, where "with more than 20 classes, those the panels show"
    # said that only the classes shown were.
    from unet.report.figures import LEGEND_ALL

    text = _caption("overlays.rst")
    assert f"more than {LEGEND_ALL} painted classes" in text


def test_the_workflow_description_does_not_promise_crf_masks_when_the_crf_is_off():
    # The report's opening text said the test-split masks were "refined with a fully connected
    # CRF" whatever the run; with crf.enabled: false nothing is refined.
    text = _caption("workflow.rst")
    assert "refined with a fully connected CRF" in text
    assert "unless ``crf.enabled: false``" in text


def test_the_overlays_caption_says_what_an_image_holding_no_class_scores(tmp_path):
    # A test image whose ground truth and prediction hold no foreground (a slice without the
    # organ, a road without defects) is titled Dice 1.000 and ranked among the best; the caption
    # defined the title's Dice only over the classes an image holds, which are none there.
    from unet.report.figures import best_and_worst

    rows = ["id,method,class,target_px,predicted_px,dice", "empty,raw,1,0,0,1",
            "held,raw,1,10,10,0.5"]
    (tmp_path / "pi.csv").write_text("\n".join(rows) + "\n")
    assert dict(best_and_worst(tmp_path / "pi.csv", n=1))["empty"]["raw"] == 1.0
    assert "hold none scores 1" in _caption("overlays.rst")


def test_the_table_caption_says_the_background_row_averages_every_image():
    # summarise counts every image in the background's mean over images (only scored classes
    # leave out an image lacking just them): an all-foreground image, which holds no background,
    # adds its 1.0 there. The caption's rule (images holding the class, or no scored class)
    # read as if it were left out.
    import numpy as np

    from unet.evaluate.boundary import image_diagonal, image_scores
    from unet.evaluate.evaluate import summarise

    part = np.zeros((6, 6), np.uint8)
    part[:2] = 1
    full = np.ones((6, 6), np.uint8)
    results = [{"id": i, "diagonal": image_diagonal(t.shape),
                "scores": {"raw": image_scores(p, t, 2)}}
               for i, (t, p) in enumerate([(part, full), (full, full)])]
    background = summarise(results, ["raw"], 2)["raw"]["classes"]["0"]["mean_per_image"]
    assert background["dice"] == 0.5  # 0.0 on the first image, 1.0 on the all-foreground one
    assert "the background row averages every image" in _caption("table.rst")


def test_the_score_captions_state_the_boundary_tolerance_and_resolution():
    # Boundary F1 counts boundary pixels matched within evaluate.boundary_tolerance px, measured
    # at each image's own size; neither caption said how close a match must be, nor where.
    for name in ("methods.rst", "table.rst"):
        text = _caption(name)
        assert "evaluate.boundary_tolerance" in text and "original resolution" in text, name


def test_names_ending_in_an_underscore_render_as_names_in_the_html_report():
    # An experiment named lr_ (a legal name) is an RST reference in a caption: every figure of
    # that experiment showed "Docutils System Messages: ERROR/3 Unknown target name: lr", and
    # the opening text too (its list of experiments). Rendered as Snakemake's report does.
    from types import SimpleNamespace

    from docutils.core import publish_parts
    from jinja2 import Environment

    config = {"dataset": {"name": "cells_", "source": "local"}, "experiments": {"lr_": None}}
    job = SimpleNamespace(wildcards=SimpleNamespace(experiment="lr_"), config=config)
    for path in sorted(REPORT.glob("*.rst")):
        text = Environment(trim_blocks=True, lstrip_blocks=True).from_string(
            path.read_text()).render(snakemake=job)
        body = publish_parts(text, writer="html")["body"]
        assert "system-message" not in body and "problematic" not in body, (path.name, body)
        if "{{" in path.read_text():
            assert "lr_" in body, path.name


def test_the_table_captions_name_the_mean_over_images_holding_the_class():
    # metrics.tsv and experiments.tsv gained the mean over only the images whose ground truth
    # holds the class, the figure to publish on inspection data (most images empty)
    assert "mean_dice_positive" in _caption("table.rst")
    assert "foreground_dice_mean_positive" in _caption("experiments.rst")


def test_the_table_caption_says_region_rows_hold_their_boundary_scores(tmp_path):
    # region_rows fills a region's mean_boundary_f1 and mean_hd95 (measured on each image's
    # union of the region's classes); the caption still said they were blank, not scored, so a
    # reader took the figures beside it for something else or ignored them
    from unet.report.regions import region_rows

    scores = {"global": dict.fromkeys(("dice", "iou", "precision", "recall"), 0.5),
              "mean_per_image": {"dice": 0.5, "iou": 0.4, "hd95": 3.0, "boundary_f1": 0.7},
              "mean_positive": {"dice": 0.5}, "held": True,
              "images": {"positive": 1, "missed": 0, "false_positive": 0}}
    summary = {"regions": {"listed": {"wt": [1, 2]}, "classes": {"wt": [1, 2]},
                           "methods": {"raw": {"wt": scores}}},
               "methods": {"raw": {"pixel_accuracy": 0.9}}}
    row = region_rows(summary, "raw")[0]
    assert row[10:12] == ["0.7000", "3.0000"]  # mean_boundary_f1, mean_hd95: filled
    text = _caption("table.rst")
    assert "not scored for regions" not in text
    assert "union of its classes" in text and "diagonal" in text


def test_the_experiments_caption_says_how_a_missed_class_enters_the_hd95_mean():
    # experiments.tsv's hd95_mean is foreground_hd95_mean, where an infinite HD95 (a class in
    # one of ground truth and prediction only) counts as the image's diagonal; the caption
    # did not say so, and a mean that drops infs (MedPy users' habit) reads very differently
    assert "diagonal" in _caption("experiments.rst")
