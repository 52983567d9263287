"""`unet predict` / `unet info` on an experiment folder take the folds of its latest run only."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from unet.cli import main
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig


def tiny_record(fold: int | None = None, folds: int | None = None, split: list | None = None,
                **config) -> dict:
    """A model file's contents for a 2-class depth-1 UNet of random weights, no training;
    `split`: its run's folds' ids (default `folds` empty folds)."""
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=1, base_width=4, **config)
    net = build_model(cfg, pretrained=False)
    meta = {"class_values": [0, 255], "size": [16, 16], "in_channels": 3, "num_classes": 2,
            "mask_bits": 8, "mode": "resize", "folds": split or [[]] * (folds or 0)}
    return checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1, fold,
                                   [0.5, 0.5], "")


def _experiment(exp: Path, folds: dict[int, int]) -> list[Path]:
    """folds/<k>/model.pt for each fold k: count of its run, the older runs' files older."""
    paths = []
    for k, count in folds.items():
        path = exp / f"folds/{k}/model.pt"
        path.parent.mkdir(parents=True)
        checkpoint.save(path, tiny_record(k, count))
        age = 1000 if count != max(folds.values()) else 0
        os.utime(path, (path.stat().st_mtime - age,) * 2)
        paths.append(path)
    return paths


def test_a_fold_left_by_an_earlier_run_is_named_not_averaged(tmp_path, capsys):
    """folds: 3, then folds: 2 left folds/2/model.pt behind: the pipeline averages folds 0 and
    1, `unet predict` averaged all three without a word."""
    exp = tmp_path / "exp"
    _experiment(exp, {0: 2, 1: 2})
    stray = exp / "folds/2/model.pt"
    stray.parent.mkdir(parents=True)
    checkpoint.save(stray, tiny_record(2, 3))
    os.utime(stray, (stray.stat().st_mtime - 1000,) * 2)
    (tmp_path / "img").mkdir()
    for argv in (["info", str(exp)],
                 ["predict", str(exp), str(tmp_path / "img"), "-o", str(tmp_path / "o")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert str(stray) in err and "2 folds" in err and "3 folds" in err, err
    assert stray.is_file() and not (tmp_path / "o").exists()


def test_the_folds_of_one_run_are_all_taken(tmp_path, capsys):
    exp = tmp_path / "exp"
    _experiment(exp, {0: 3, 1: 3, 2: 3})
    assert main(["info", str(exp)]) == 0
    out = capsys.readouterr().out
    assert all(f"folds/{k}/model.pt" in out for k in range(3))


def test_a_missing_fold_of_the_run_is_named(tmp_path, capsys):
    exp = tmp_path / "exp"
    _experiment(exp, {0: 3, 2: 3})
    assert main(["info", str(exp)]) == 2
    err = capsys.readouterr().err
    assert "folds/1/model.pt" in err and "3 folds" in err, err


def test_older_files_fall_back_on_the_caches_fold_count(tmp_path, capsys):
    """Model files written before the count was recorded: the dataset's cache/meta.json lists
    the folds the pipeline trained."""
    from unet.common.fileio import write_json

    exp = tmp_path / "data" / "exp"
    paths = _experiment(exp, {0: 0, 1: 0, 2: 0})
    for path in paths:
        record = torch.load(path, weights_only=True)
        del record["folds"]
        checkpoint.save(path, record)
    write_json(tmp_path / "data" / "cache" / "meta.json", {"folds": [["a"], ["b"]]})
    assert main(["info", str(exp)]) == 2
    assert str(paths[2]) in capsys.readouterr().err
    write_json(tmp_path / "data" / "cache" / "meta.json", {"folds": [["a"], ["b"], ["c"]]})
    assert main(["info", str(exp)]) == 0


def test_the_newer_of_a_single_model_and_folds_is_taken(tmp_path, caplog):
    # A run without folds, then with split.folds: 5, left the single model.pt beside the
    # folds: unet predict, info and export took that stale model without a word.
    from unet.infer.named import named_models as _models

    exp = tmp_path / "exp"
    folds = _experiment(exp, {0: 2, 1: 2})
    single = exp / "model.pt"
    checkpoint.save(single, tiny_record())
    os.utime(single, (single.stat().st_mtime - 5000,) * 2)  # the earlier run
    assert _models(str(exp)) == [str(f) for f in folds]
    assert str(single) in caplog.text and "older" in caplog.text
    os.utime(single, (single.stat().st_mtime + 10000,) * 2)  # folds off again since
    assert _models(str(exp)) == [str(single)]


def test_a_fold_of_another_split_with_the_same_count_is_named(tmp_path, capsys):
    # split.seed changed and the rerun stopped after folds 0 and 1 (fold 2 killed, or failed):
    # all three record 3 folds, and `unet predict` averaged fold 2 of the old split, which may
    # have trained on the new test images, with the new run's two.
    exp = tmp_path / "exp"
    paths = _experiment(exp, {0: 3, 1: 3, 2: 3})
    for k, path in enumerate(paths):
        split = [["c"], ["a"], ["b"]] if k == 2 else [["a"], ["b"], ["c"]]
        checkpoint.save(path, tiny_record(k, split=split))
    os.utime(paths[2], (paths[2].stat().st_mtime - 1000,) * 2)
    assert main(["info", str(exp)]) == 2
    err = capsys.readouterr().err
    assert str(paths[2]) in err and "split" in err, err


def test_an_experiment_that_shares_anothers_model_names_where_it_is(tmp_path, capsys):
    # An experiment that trains as one sorting before it (a_tta beside baseline) predicts with
    # that one's model.pt and has none: unet info/predict/export on its folder said to give
    # "an experiment's folder under results/", which the user had given, naming no model.
    data = tmp_path / "results" / "d"
    (data / "a_tta" / "pred" / "test").mkdir(parents=True)
    (data / "baseline").mkdir()
    checkpoint.save(data / "baseline" / "model.pt", tiny_record())
    (data / "cv" / "folds" / "0").mkdir(parents=True)
    checkpoint.save(data / "cv" / "folds" / "0" / "model.pt", tiny_record(fold=0, folds=1))
    (data / "empty").mkdir()
    assert main(["info", str(data / "a_tta")]) != 0
    err = capsys.readouterr().err
    assert f"{data / 'baseline'}" in err and f"{data / 'cv'}" in err, err
    assert f"{data / 'empty'}" not in err


def test_a_fold_folder_without_its_model_is_not_told_of_experiments(tmp_path, capsys):
    # The hint for an experiment sharing another's model named the fold folders beside a
    # fold's own (folds/0 for folds/1, still training) as experiments to give instead.
    folds = tmp_path / "results" / "d" / "cv" / "folds"
    (folds / "1").mkdir(parents=True)
    (folds / "0").mkdir()
    checkpoint.save(folds / "0" / "model.pt", tiny_record(fold=0, folds=2))
    assert main(["info", str(folds / "1")]) != 0
    err = capsys.readouterr().err
    assert str(folds / "0") not in err and "fold" in err, err
