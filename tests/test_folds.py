"""Cross-validation: fold rows over the cache, the ensemble prediction, the summary table."""

import csv

import numpy as np
import pytest
import torch

from unet.common.fileio import read_json
from unet.infer.predict import PredictSettings, predict_masks
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig
from unet.report.cross_validation import cross_validation
from unet.train.dataset import CachedRows
from unet.train.folds import fold_rows, labelled_rows
from unet.train.settings import TrainSettings
from unet.train.train import train_unet


@pytest.fixture(scope="module")
def cache(synthetic_cache):
    """A 3-fold cache of 14 synthetic pairs (fold ids known from the split)."""
    synthetic = {"count": 14, "width": 40, "height": 24, "seed": 2}
    return synthetic_cache("folds", synthetic, (32, 16), split_seed=1, folds=3)


def test_each_fold_validates_on_itself_and_trains_on_the_rest(cache):
    meta = read_json(cache / "meta.json")
    folds = meta["folds"]
    assert len(folds) == 3
    ids = {s: meta["splits"][s]["ids"] for s in ("train", "val")}
    for k in range(3):
        train, val = fold_rows(meta, k)
        assert [ids[s][r] for s, r in val] == folds[k]
        assert sorted(ids[s][r] for s, r in train) == sorted(
            i for j, f in enumerate(folds) if j != k for i in f
        )
    with pytest.raises(ValueError, match="fold 3 does not exist.*split.folds"):
        fold_rows(meta, 3)


def test_cached_rows_read_the_rows_they_name(cache):
    meta = read_json(cache / "meta.json")
    _, val = fold_rows(meta, 1)  # fold 1 lives in the cached train split
    images = np.load(cache / "train_images.npy")
    got, _ = CachedRows(cache, val)[0]
    want = torch.from_numpy(images[val[0][1]]).permute(2, 0, 1).float() / 255
    assert val[0][0] == "train" and torch.equal(got, want)


def test_a_fold_trains_on_the_other_folds(cache, tmp_path):
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu", seed=0)
    model = {"depth": 2, "base_width": 4}
    best = train_unet(
        cache, tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "ck", model, settings, fold=2
    )
    assert best["fold"] == 2
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 2  # header and one epoch
    other = train_unet(
        cache, tmp_path / "n.pt", tmp_path / "g.csv", tmp_path / "ck", model, settings, fold=1
    )
    assert other["fold"] == 1  # fold 2's checkpoint in the same folder was not resumed
    assert (tmp_path / "n.pt").exists()


def _model(cache, path, seed):
    meta = read_json(cache / "meta.json")
    torch.manual_seed(seed)
    cfg = UNetConfig(in_channels=meta["in_channels"], num_classes=2, depth=2, base_width=4)
    keys = ("class_values", "size", "in_channels", "num_classes", "mask_rgb")
    state = {k: meta[k] for k in keys}
    checkpoint.save(
        path, {"model_config": cfg.to_dict(), "state_dict": UNet(cfg).state_dict(), **state}
    )
    return path


def _probs(folder):
    return {p.stem: np.load(p).astype(np.float32) for p in (folder / "probs").iterdir()}


def test_ensemble_averages_the_fold_models_probabilities(cache, tmp_path):
    models = [_model(cache, tmp_path / f"m{k}.pt", seed=k) for k in range(2)]
    settings = PredictSettings(batch_size=3, device="cpu")
    for name, paths in (("a", models[:1]), ("b", models[1:]), ("ab", models)):
        predict_masks(paths, cache, "test", tmp_path / name, settings)
    a, b, ab = (_probs(tmp_path / n) for n in ("a", "b", "ab"))
    assert a.keys() == ab.keys() and len(ab) == 3
    for i in ab:
        assert ab[i].shape == (2, 24, 40)  # original size, not the cache's
        np.testing.assert_allclose(ab[i], (a[i] + b[i]) / 2, atol=2e-3)  # float16 on disk
        assert not np.allclose(a[i], b[i], atol=1e-2)  # two different models


def test_ensemble_of_models_from_other_data_is_refused(cache, tmp_path):
    good = _model(cache, tmp_path / "good.pt", 0)
    other = _model(cache, tmp_path / "other.pt", 1)
    ck = torch.load(other, weights_only=False)
    checkpoint.save(other, {**ck, "size": [64, 64]})
    with pytest.raises(ValueError, match="other.pt was trained on other data.*size"):
        predict_masks([good, other], cache, "test", tmp_path / "out", PredictSettings(device="cpu"))


def test_cross_validation_table(tmp_path):
    paths = []
    for k, dices in enumerate([(0.5, 0.7, 0.6), (0.8, 0.8, 0.4)]):
        path = tmp_path / f"h{k}.csv"
        rows = ["epoch,train_loss,val_loss,val_dice,val_dice_0,val_dice_1,lr"]
        rows += [f"{e + 1},1,{1 - d},{d},0.9,{d},0.01" for e, d in enumerate(dices)]
        path.write_text("\n".join(rows) + "\n")
        paths.append(path)
    result = cross_validation(paths, tmp_path / "cv.tsv")
    with open(tmp_path / "cv.tsv") as f:
        table = list(csv.DictReader(f, delimiter="\t"))
    assert [r["fold"] for r in table] == ["0", "1", "mean", "sd"]
    assert [r["best_epoch"] for r in table[:2]] == ["2", "1"]  # first of equal bests
    assert [r["val_dice"] for r in table] == ["0.7000", "0.8000", "0.7500", "0.0707"]
    assert result == {
        "folds": 2,
        "val_dice_mean": pytest.approx(0.75),
        "val_dice_sd": pytest.approx(0.0707, abs=1e-4),
    }


def test_cross_validation_columns_follow_class_order(tmp_path):
    classes = range(11)  # val_dice_10 sorts before val_dice_2 as text
    head = ",".join(["epoch", "val_loss", "val_dice", *(f"val_dice_{c}" for c in classes)])
    row = ",".join(["1", "0.5", "0.5", *(f"{c / 10}" for c in classes)])
    (tmp_path / "h.csv").write_text(f"{head}\n{row}\n")
    cross_validation([tmp_path / "h.csv"], tmp_path / "cv.tsv")
    header = (tmp_path / "cv.tsv").read_text().splitlines()[0].split("\t")
    assert header[3:-1] == [f"val_dice_{c}" for c in classes]


def test_a_class_absent_from_a_fold_does_not_lift_its_mean_over_folds(tmp_path):
    # Class 2 is in fold 0's validation images (Dice 0.4) and in neither the images nor the
    # predictions of fold 1's: no score there. Its 1.0 by convention made the mean 0.7.
    from unet.evaluate.metrics import class_dice

    absent = np.diag([90, 10, 0])
    assert np.isnan(class_dice(absent)[2]) and class_dice(absent)[1] == 1.0
    assert class_dice(np.diag([90, 10, 0]) + np.eye(3, k=-2, dtype=int))[2] == 0  # missed
    for k, d2 in enumerate(["0.4", "nan"]):
        (tmp_path / f"h{k}.csv").write_text(
            "epoch,val_loss,val_dice,val_dice_0,val_dice_1,val_dice_2\n"
            f"1,0.5,0.5,0.9,0.6,{d2}\n")
    cross_validation([tmp_path / "h0.csv", tmp_path / "h1.csv"], tmp_path / "cv.tsv")
    with open(tmp_path / "cv.tsv") as f:
        table = list(csv.DictReader(f, delimiter="\t"))
    assert [r["val_dice_2"] for r in table] == ["0.4000", "", "0.4000", ""]  # sd: one fold
    assert [r["val_dice_1"] for r in table] == ["0.6000", "0.6000", "0.6000", "0.0000"]


def test_the_table_reports_the_epoch_training_kept_on_a_dice_tie(tmp_path):
    # Training keeps, among epochs of equal Dice, the one of lower validation loss (best.pt);
    # the table took the first of them: epoch 1, untrained (Dice 0.0 until foreground shows).
    (tmp_path / "h.csv").write_text(
        "epoch,val_loss,val_dice\n1,1.8,0.0\n2,1.7,0.0\n3,1.75,0.0\n4,1.6,0.0\n")
    cross_validation([tmp_path / "h.csv"], tmp_path / "cv.tsv")
    with open(tmp_path / "cv.tsv") as f:
        fold = next(csv.DictReader(f, delimiter="\t"))
    assert fold["best_epoch"] == "4" and fold["val_loss"] == "1.6000"


def test_labelled_rows_drops_unlabelled_ids_keeping_the_order():
    """labelled_rows looked each unlabelled id up with list.index, a scan of its split per id
    (40,000 ids, half unlabelled: 18 s on the loaded 2-core machine, 0.02 s by position; a
    figure, not asserted here: timed tests are flaky on shared machines); rows kept, in order."""
    small = {"splits": {"train": {"ids": ["a", "b", "c"]}, "val": {"ids": ["d", "e"]},
                        "test": {"ids": ["f"]}},
             "unlabelled": {"train": ["c", "a"], "val": ["e"], "test": ["f"]}}
    rows = [("val", 1), ("train", 1), ("test", 0), ("train", 0), ("val", 0), ("train", 2)]
    assert labelled_rows(small, rows) == [("train", 1), ("test", 0), ("val", 0)]
    assert labelled_rows({"splits": small["splits"]}, rows) is rows
    ids = [f"img_{i:06d}" for i in range(2_000)]
    big = {"splits": {"train": {"ids": ids}, "val": {"ids": []}}, "unlabelled": {"train": ids[::2]}}
    kept = labelled_rows(big, [("train", k) for k in range(len(ids))])
    assert kept == [("train", k) for k in range(1, len(ids), 2)]
