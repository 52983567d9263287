"""A model that has not learnt the foreground (sparse data: most images empty, objects of a
few pixels) is named in train_unet.log. It settled on background everywhere from epoch 4 of
25 on a 30-image set with 10 positive images, and the log's only verdict was 'best val Dice
0.0074 at epoch 3' (an epoch that predicted the foreground on every pixel)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from unet.common.fileio import read_json, write_json
from unet.report.training import training_verdict
from unet.train import loop
from unet.train.collapse import collapse_message, collapse_notes, pixel_counts
from unet.train.settings import TrainSettings
from unet.train.train import train_unet


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    return synthetic_cache("collapse", {"count": 10, "width": 48, "height": 32, "seed": 3},
                           (32, 24))


def _train(cache: Path, out: Path, monkeypatch, predicted, epochs: int = 2) -> None:
    real = loop.evaluate_split

    def scored(*args, **kwargs):
        loss, cm = real(*args, **kwargs)
        return loss, predicted(cm)

    monkeypatch.setattr(loop, "evaluate_split", scored)
    settings = TrainSettings(epochs=epochs, batch_size=2, device="cpu")
    train_unet(cache, out / "model.pt", out / "h.csv", out / "ck", {"depth": 2, "base_width": 4},
               settings)


def _nothing(cm: np.ndarray) -> np.ndarray:
    """Every pixel predicted background: the target's counts in column 0."""
    out = np.zeros_like(cm)
    out[:, 0] = cm.sum(1)
    return out


def _perfect(cm: np.ndarray) -> np.ndarray:
    return np.diag(cm.sum(1))


def test_a_model_that_predicts_no_foreground_is_named(cache, tmp_path, monkeypatch, caplog):
    with caplog.at_level(logging.WARNING):
        _train(cache, tmp_path, monkeypatch, _nothing)
    text = caplog.text
    assert "has not learnt 1 class(es)" in text
    assert re.search(r"class 1: the model kept \(epoch [12]\) predicts it nowhere", text)
    assert "train.class_weights" in text  # and the fix


def test_a_model_that_learnt_the_foreground_gets_no_warning(cache, tmp_path, monkeypatch,
                                                            caplog):
    with caplog.at_level(logging.WARNING):
        _train(cache, tmp_path, monkeypatch, _perfect)
    assert "has not learnt" not in caplog.text


def test_everywhere_and_nowhere_right_are_told_apart():
    everywhere = pixel_counts(np.array([[0, 990], [0, 10]]))
    assert collapse_notes(everywhere, 1, 3) == [
        "class 1: the model kept (epoch 3) predicts it on every pixel on the validation "
        "images, where the validation masks hold 10 px of it (1.00%)"]
    missed = pixel_counts(np.array([[980, 10], [10, 0]]))
    assert "predicts it on 10 px, none of them right" in collapse_notes(missed, 1, 1)[0]
    partly = pixel_counts(np.array([[985, 5], [5, 5]]))
    assert collapse_notes(partly, 1, 1) == []
    absent = pixel_counts(np.array([[1000, 0], [0, 0]]))  # nothing to learn on validation
    assert collapse_notes(absent, 1, 1) == []


def test_the_report_verdict_names_a_class_the_kept_model_never_predicts(cache, tmp_path,
                                                                        monkeypatch):
    # The warning was in train_unet.log only: the report's verdict, what a user reads, said
    # 'The CRF did not help ... foreground Dice 0.0000 raw' and nothing of why.
    _train(cache, tmp_path, monkeypatch, _nothing)
    text = training_verdict([tmp_path / "h.csv"], 1)
    assert text.startswith("Training: the model has not learnt 1 class(es): ")
    assert re.search(r"class 1: the model kept \(epoch [12]\) predicts it nowhere", text)
    assert "train.patch.foreground" in text
    assert "train.lr" in text  # a rate too high also settles on one class


def test_the_report_verdict_says_nothing_of_a_model_that_learnt(cache, tmp_path, monkeypatch):
    _train(cache, tmp_path, monkeypatch, _perfect)
    assert training_verdict([tmp_path / "h.csv"], 1) == ""
    folds = [tmp_path / "h.csv", tmp_path / "h.csv"]
    assert training_verdict(folds, 0) == ""  # class 0 scored: every class still learnt


def _background_only(cm: np.ndarray) -> np.ndarray:
    """A validation split truly of one class, predicted as such."""
    out = np.zeros_like(cm)
    out[0, 0] = cm.sum()
    return out


STUCK = "predicted class 0 alone on every validation pixel"


def test_a_model_stuck_on_one_class_is_told_while_it_trains(cache, tmp_path, monkeypatch,
                                                            caplog):
    # A run that settled on background everywhere was told only once all its epochs had run.
    with caplog.at_level(logging.WARNING):
        _train(cache, tmp_path, monkeypatch, _nothing, epochs=6)
    stuck = [r.getMessage() for r in caplog.records if STUCK in r.getMessage()]
    assert len(stuck) == 1 and stuck[0].startswith("epochs 1-5 ")  # once, at epoch 5
    assert "train.patch.foreground" in stuck[0] and "class 1" in stuck[0]


@pytest.mark.parametrize("predicted", [_perfect, _background_only, _nothing])
def test_no_warning_while_training_goes_well_or_is_young(cache, tmp_path, monkeypatch, caplog,
                                                          predicted):
    epochs = 4 if predicted is _nothing else 6  # four epochs of background alone: too early
    with caplog.at_level(logging.WARNING):
        _train(cache, tmp_path, monkeypatch, predicted, epochs=epochs)
    assert STUCK not in caplog.text


def test_a_resumed_run_still_stuck_is_told_in_its_own_log(cache, tmp_path, monkeypatch, caplog):
    # A run told at epoch 5, then killed (a SLURM time limit) and resumed, went on predicting
    # background alone with no word: the resumed job's train_unet.log (opened anew) said
    # nothing until its last epoch, as the streak had been warned of in the killed job's log.
    _train(cache, tmp_path, monkeypatch, _nothing, epochs=6)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _train(cache, tmp_path, monkeypatch, _nothing, epochs=8)
    stuck = [r.getMessage() for r in caplog.records if STUCK in r.getMessage()]
    assert len(stuck) == 1 and stuck[0].startswith("epochs 3-7 "), stuck  # its first epoch


def test_many_classes_not_learnt_make_one_readable_sentence():
    # ADE20K's 150 classes: a model that had not yet learnt 50 rare ones got a 7,000-character
    # verdict (a sentence per class), per fold, at the top of the report
    cm = np.diag(np.arange(1000, 1150))
    cm[100:, 100:], cm[100:, 0] = 0, 500  # classes 100-149 predicted nowhere
    text = collapse_message(pixel_counts(cm), 0, 12)
    assert text.startswith("the model has not learnt 50 class(es): class 100: ")
    assert len(text) < 1500, len(text)
    assert "class 149" in text or ", 149" in text  # each one still named
    assert "train.lr" in text


@pytest.fixture
def unseen(cache, tmp_path) -> Path:
    """The collapse cache with its training rows recorded as holding no class 1 pixel, as a
    split that put every image of a rare class into validation leaves them."""
    copy = tmp_path / "unseen"
    shutil.copytree(cache, copy)
    meta = read_json(copy / "meta.json")
    meta["splits"]["train"]["class_counts"][1] = 0
    write_json(copy / "meta.json", meta)
    return copy


SPLIT = "no training image holds class 1"


def test_a_class_no_training_image_holds_is_put_down_to_the_split(unseen, tmp_path,
                                                                   monkeypatch, caplog):
    # The log and the report said 'train longer (train.epochs), ...' of a class no training
    # row held: no amount of training teaches it; the split (or the data) is the fix.
    with caplog.at_level(logging.WARNING):
        _train(unseen, tmp_path, monkeypatch, _nothing, epochs=6)
    told = [r.getMessage() for r in caplog.records if "class 1" in r.getMessage()
            and r.name == "unet.train.collapse"]
    assert len(told) == 2, told  # the streak at epoch 5, then the kept model
    for text in told + [training_verdict([tmp_path / "h.csv"], 1, read_json(unseen / "meta.json"))]:
        assert SPLIT in text and "split.val_ids" in text and "masks.values" in text
        assert "train.epochs" not in text and "train.lr" not in text


def test_classes_training_held_keep_the_training_advice():
    cm = np.zeros((3, 3), np.int64)
    cm[:, 0] = [900, 50, 50]  # classes 1 and 2 predicted nowhere; the training rows held 2
    text = collapse_message(pixel_counts(cm), 1, 4, held=[0, 2])
    assert SPLIT in text and "class 2" in text and "train.epochs" in text
    assert SPLIT not in collapse_message(pixel_counts(cm), 1, 4, held=None)  # unknown: as before


def test_each_fold_is_judged_by_its_own_training_rows(tmp_path):
    # fold k trains on the other folds: only fold 1's images hold class 1, so fold 1 never
    # saw it (the split's doing), while fold 0 trained on it and did not learn it (training's)
    from unet.train.collapse import count_columns
    from unet.train.history import write_history

    row = {"epoch": 3, "val_dice": 0.0, "val_loss": 0.5,
           **count_columns(pixel_counts(np.array([[900, 0], [40, 0]])))}
    for k in range(2):
        write_history(tmp_path / f"h{k}.csv", [row])
    meta = {"num_classes": 2, "splits": {"train": {"class_counts": [900, 40]}},
            "fold_class_counts": [[900, 0], [900, 40]]}
    text = training_verdict([tmp_path / "h0.csv", tmp_path / "h1.csv"], 1, meta)
    zero, one = text.split("Training fold 1: ")
    assert SPLIT not in zero and "train.epochs" in zero
    assert SPLIT in one and "train.epochs" not in one


NAMES = ["background", "leaf", "stem"]


def test_a_class_not_learnt_is_named_by_its_label_too():
    # A LabelMe folder of leaf and stem polygons: the warning and the report said "class 1:
    # ... predicts it nowhere; class 2: ...", and which label each number was sat only in
    # download_dataset.log; the number alone stays where the data has no names.
    counts = pixel_counts(np.array([[970, 0, 0], [10, 0, 0], [20, 0, 0]]))
    message = collapse_message(counts, 1, 3, held=[0, 1], names=NAMES)
    assert "class 1 (leaf): the model kept (epoch 3)" in message, message
    assert "class 2 (stem): the model kept (epoch 3)" in message, message
    assert "no training image holds class 2," in message, message  # the split's advice
    assert "class 1: the model" in collapse_message(counts, 1, 3)


def test_the_log_and_the_report_name_the_class_not_learnt(cache, tmp_path, monkeypatch,
                                                          caplog):
    real = loop.evaluate_split
    monkeypatch.setattr(loop, "evaluate_split",
                        lambda *a, **k: (real(*a, **k)[0], _nothing(real(*a, **k)[1])))
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu")
    with caplog.at_level(logging.WARNING):
        train_unet(cache, tmp_path / "model.pt", tmp_path / "h.csv", tmp_path / "ck",
                   {"depth": 2, "base_width": 4}, settings, class_names=["sky", "blob"])
    assert "class 1 (blob): the model kept" in caplog.text, caplog.text
    text = training_verdict([tmp_path / "h.csv"], 1, names=["sky", "blob"])
    assert "class 1 (blob): the model kept" in text, text
