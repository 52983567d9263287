"""Class names (masks.names, COCO categories, class folders) reach meta.json, model.pt,
metrics.tsv and `unet info`."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json
from unet.common.labels import MaskValueError, shown_names
from unet.report.plot import metrics_table


def _pairs(tmp_path, names=None):
    write_inputs(tmp_path, [write_pair(tmp_path, i, values=(0, 1, 2)) for i in range(4)])
    if names:  # what a COCO or class-folder manifest carries
        manifest = read_json(tmp_path / "manifest.json")
        write_json(tmp_path / "manifest.json", {**manifest, "class_names": names})


def test_the_data_names_its_classes_and_the_config_may_rename_them(tmp_path):
    _pairs(tmp_path, {"0": "background", "1": "nucleus", "2": "cell"})
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c1",
                      PreprocessSettings(width=20, height=16))
    assert meta["class_names"] == ["background", "nucleus", "cell"]
    settings = PreprocessSettings(width=20, height=16, class_names=("bg", "a", "b"))
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c2",
                      settings)
    # masks.names are shown by the steps that take them, not cached: a rename re-cached the
    # data set and retrained every model
    assert meta["class_names"] == ["background", "nucleus", "cell"]
    assert shown_names(["bg", "a", "b"], meta) == ["bg", "a", "b"]
    assert shown_names(None, meta) == ["background", "nucleus", "cell"]
    with pytest.raises(MaskValueError, match=r"masks.names lists 2 names for 3 classes"):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c3",
                   PreprocessSettings(width=20, height=16, class_names=("bg", "a")))


def test_without_names_there_are_none(tmp_path):
    _pairs(tmp_path)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
                      PreprocessSettings(width=20, height=16))
    assert meta["class_names"] is None


def test_metrics_name_each_class(tmp_path):
    scores = {"global": {k: 0.5 for k in ("dice", "iou", "precision", "recall")},
              "mean_per_image": {"dice": 0.5, "boundary_f1": 0.5, "hd95": 1.0}}
    summary = {"class_values": [0, 1], "class_names": ["background", "membrane"],
               "methods": {"raw": {"classes": {"0": scores, "1": scores},
                                   "pixel_accuracy": 0.9}}}
    metrics_table(summary, tmp_path / "t.tsv")
    with open(tmp_path / "t.tsv") as f:
        assert [r["name"] for r in csv.DictReader(f, delimiter="\t")] == ["background", "membrane"]
    del summary["class_names"]  # a summary from before names were kept
    metrics_table(summary, tmp_path / "t.tsv")
    with open(tmp_path / "t.tsv") as f:
        assert [r["name"] for r in csv.DictReader(f, delimiter="\t")] == ["", ""]


def test_the_model_file_and_unet_info_keep_the_names(tmp_path):
    from unet.model.checkpoint import DATA_KEYS
    from unet.model.describe import describe_model
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    assert "class_names" in DATA_KEYS
    _pairs(tmp_path, {"0": "background", "1": "nucleus", "2": "cell"})
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
               PreprocessSettings(width=16, height=16))
    train_unet(tmp_path / "c", tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "ck",
               {"depth": 2, "base_width": 4}, TrainSettings(epochs=1, batch_size=2, device="cpu"))
    assert "0 = 0 (background), 1 = 1 (nucleus), 2 = 2 (cell)" in describe_model(tmp_path / "m.pt")
    assert np.isfinite(read_json(tmp_path / "c" / "meta.json")["class_fractions"]).all()


def test_training_curves_name_each_class_in_a_colour_of_its_own(tmp_path, monkeypatch):
    # The validation-Dice panel said "class 0" ... "class 18" with no names (the README says
    # the names reach the report's figures), and beyond 10 classes repeated tab10's colours:
    # Cityscapes' road (class 0) and sky (class 10) were one blue line.
    from unet.report import charts

    k = 19
    columns = ["epoch", "train_loss", "val_loss", "val_dice", *(f"val_dice_{c}" for c in range(k)),
               "lr", "seconds", "images_per_s"]
    with open(tmp_path / "history.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for e in (1, 2):
            writer.writerow([e, 1.0, 1.0, 0.5, *(c / k for c in range(k)), 0.01, 1.0, 1.0])
    drawn = {}
    monkeypatch.setattr(charts, "save_figure", lambda fig, path: drawn.setdefault("fig", fig))
    names = [f"name{c}" for c in range(k)]
    charts.plot_curves([tmp_path / "history.csv"], tmp_path / "curves.png", names)
    lines = drawn["fig"].axes[1].get_lines()
    assert [line.get_label() for line in lines] == [f"class {c} name{c}" for c in range(k)]
    assert len({line.get_color() for line in lines}) == k


def test_renamed_classes_resume_training_at_its_last_epoch(tmp_path, caplog):
    # Renaming a class does not retrain in the workflow (masks.names is no param of training);
    # training run again all the same resumes at its last epoch, and model.pt carries the
    # new names.
    import logging

    from unet.model.describe import describe_model
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    _pairs(tmp_path)

    def run(names):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
                   PreprocessSettings(width=16, height=16, class_names=names))
        train_unet(tmp_path / "c", tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "ck",
                   {"depth": 2, "base_width": 4},
                   TrainSettings(epochs=2, batch_size=2, device="cpu"), class_names=names)

    run(("bg", "a", "b"))
    caplog.set_level(logging.INFO)
    caplog.clear()  # the first run's records, where an earlier test left the root at INFO
    run(("background", "nucleus", "cell"))
    assert "resuming from" in caplog.text and "at epoch 2" in caplog.text
    assert "epoch 1/2" not in caplog.text and "epoch 2/2" not in caplog.text  # none trained
    assert "1 = 1 (nucleus)" in describe_model(tmp_path / "m.pt")


def test_a_wrong_count_of_names_is_refused_before_an_epoch_is_trained(tmp_path):
    # A rename leaves the cache alone, so preprocess does not check it again: training took
    # every epoch, then refused the count, writing no model.pt.
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    _pairs(tmp_path)
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
               PreprocessSettings(width=16, height=16))
    with pytest.raises(ValueError, match=r"masks.names lists 2 names for 3 classes"):
        train_unet(tmp_path / "c", tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "ck",
                   {"depth": 2, "base_width": 4},
                   TrainSettings(epochs=1, batch_size=2, device="cpu"), class_names=["a", "b"])
    assert not (tmp_path / "ck" / "last.pt").exists()  # no epoch trained


@pytest.mark.workflow
def test_a_renamed_class_reruns_the_tables_with_the_new_name(tmp_path):
    # masks.names was a param of preprocess: a rename re-cached the data and retrained every
    # model; now the evaluation and the report alone rerun, and show the new names.
    import torch

    from tests.conftest import TINY, copy_workflow, snakemake

    wd = copy_workflow(tmp_path)
    exp = wd / "results" / "synthetic" / "baseline"

    def run(names: str) -> str:
        (wd / "names.yaml").write_text(f"masks: {{names: [{names}]}}\n")
        args = ("--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "names.yaml")
        return snakemake(wd, *args).stderr

    run("ground, shape")
    model = (exp / "model.pt").stat().st_mtime_ns
    log = run("floor, blob")
    assert "rule train_unet" not in log and "rule preprocess" not in log
    assert (exp / "model.pt").stat().st_mtime_ns == model
    assert read_json(exp / "metrics" / "summary.json")["class_names"] == ["floor", "blob"]
    with open(exp / "report" / "metrics.tsv") as f:
        assert {r["name"] for r in csv.DictReader(f, delimiter="\t")} == {"floor", "blob"}
    ckpt = torch.load(exp / "model.pt", map_location="cpu", weights_only=False)
    assert ckpt["class_names"] == ["ground", "shape"]  # the names it was trained under


def test_training_and_evaluation_refuse_a_wrong_count_of_names_as_preprocess_does():
    # shown_names (train, evaluate) repeated preprocess's count check with its own message: a
    # ValueError that left out the class values the names were to label
    meta = {"class_values": [0, 1, 2], "num_classes": 3}
    with pytest.raises(MaskValueError, match=r"masks\.names lists 2 names for 3 classes "
                       r"\(values 0, 1, 2\); give one per class, class 0 first"):
        shown_names(["bg", "a"], meta)
