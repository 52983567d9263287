"""A class without a pixel in the training masks is never predicted, in every path. On VOC-like
data a model trained on classes 1 and 15 predicted class 7 (no training pixel) on every test
image: the untrained class's output was whatever its random head gave. Here class 2 (value
128) lies in the validation and test masks only, and its head bias is raised so that the
model predicts it everywhere unless prediction drops it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import H, W, _dataset, _preprocess
from unet.cache.settings import settings_from_config
from unet.common.fileio import write_json
from unet.common.labels import mapping_from_meta
from unet.common.maskio import read_mask
from unet.crf.dense import CRFParams, CRFTask, refine_file
from unet.infer.predict import PredictSettings, predict_masks
from unet.infer.predict_folder import predict_files, predict_folder
from unet.model import checkpoint
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

UNTRAINED = 128  # class 2's value
MASKS = {"values": [0, 255, 128], "threshold": None, "max_values": 16, "ignore": None}
MODEL = {"depth": 2, "base_width": 4}


def _mask(i: int, disc: np.ndarray) -> np.ndarray:
    """A disc (255) in every mask; a block of value 128 from image 4 on (val, test)."""
    out = np.where(disc > 0.5, 255, 0).astype(np.uint8)
    if i >= 4:
        out[24:30, 30:38] = UNTRAINED
    return out


def _train(root, fold=None, init_from=None):
    """model.pt (fold: fold<fold>.pt) trained one epoch on root's cache."""
    out = root / ("model.pt" if fold is None else f"fold{fold}.pt")
    train_unet(
        root / "cache",
        out,
        root / "history.csv",
        root / f"ck{fold}",
        MODEL,
        TrainSettings(
            epochs=1, batch_size=2, device="cpu", deterministic=True, init_from=init_from
        ),
        fold=fold,
    )
    return out


def _boosted(model, out, edit=None):
    """`model` with class 2's head bias raised by 50 (it wins every pixel if predicted);
    `edit(record)` changes the copy's record."""
    record = checkpoint.load(model)
    record["state_dict"]["head.bias"][2] += 50
    if edit:
        edit(record)
    checkpoint.save(out, record)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("untrained")
    _dataset(root, 8, lambda i: "L", lambda i: "L", _mask)
    _preprocess(root, settings_from_config({"width": W, "height": H}, MASKS))
    model = _train(root)
    _boosted(model, root / "boosted.pt")
    _boosted(model, root / "old.pt", lambda r: r.pop("trained_classes", None))
    _boosted(
        model,
        root / "window.pt",
        lambda r: r["train_settings"].setdefault("patch", {}).update(size=[16, 16]),
    )
    for k in (6, 7):
        shutil.copy(root / f"img{k}.png", root / f"new{k}.png")
    return root


def _values(folder) -> set[int]:
    return set().union(*(np.unique(read_mask(p)).tolist() for p in sorted(folder.glob("*.png"))))


def test_the_model_file_records_the_classes_it_trained_on(run):
    assert checkpoint.load(run / "model.pt")["trained_classes"] == [0, 1]


def test_unet_info_names_them(run):
    from unet.model.describe import describe_model

    assert "untrained  class(es) 2: no training pixel" in describe_model(run / "boosted.pt")
    assert "untrained  " not in describe_model(run / "old.pt")


def test_an_old_model_file_without_the_record_predicts_as_before(run):
    predict_masks(
        [run / "old.pt"], run / "cache", "test", run / "old", PredictSettings(device="cpu")
    )
    assert UNTRAINED in _values(run / "old/masks")  # the boosted class, as before the record


@pytest.mark.parametrize("model", ["boosted.pt", "window.pt"])
@pytest.mark.parametrize("tta", [False, True])
def test_predict_masks_never_gives_the_untrained_class(run, model, tta, caplog):
    out = run / f"pred_{model}_{tta}"
    predict_masks([run / model], run / "cache", "test", out, PredictSettings(device="cpu", tta=tta))
    assert _values(out / "masks") <= {0, 255}
    for probs in (out / "probs").glob("*.npy"):
        assert not np.load(probs)[2].any()  # probability 0, not merely outvoted
    assert caplog.text.count("class(es) 2 (value(s) 128) are never predicted") == 1


@pytest.mark.parametrize("model", ["boosted.pt", "window.pt"])
def test_unet_predict_and_predict_folder_never_give_it(run, model):
    from unet.cli import main

    files = [run / "new6.png", run / "new7.png"]
    assert (
        main(
            [
                "predict",
                str(run / model),
                *map(str, files),
                "-o",
                str(run / f"cli_{model}"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert _values(run / f"cli_{model}") <= {0, 255}
    folder = run / f"folder_{model}"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    predict_folder([run / model], folder, run / f"out_{model}", PredictSettings(device="cpu"))
    assert _values(run / f"out_{model}") <= {0, 255}


def test_an_ensemble_predicts_a_class_only_from_the_folds_that_trained_on_it(run):
    lacking = [run / "boosted.pt", shutil.copy(run / "boosted.pt", run / "twin.pt")]
    settings = PredictSettings(device="cpu")
    predict_masks(lacking, run / "cache", "test", run / "both", settings)
    assert _values(run / "both/masks") <= {0, 255}
    knows = _boosted(
        run / "model.pt", run / "knows.pt", lambda r: r.update(trained_classes=[0, 1, 2])
    )
    predict_masks([run / "boosted.pt", knows], run / "cache", "test", run / "one", settings)
    for probs in (run / "one/probs").glob("*.npy"):
        # the member that knows it gives it about 1, the other 0: about half on average
        p2 = np.load(probs)[2].astype(np.float32)
        assert p2.min() > 0.45 and p2.max() < 0.55


def test_the_crf_does_not_bring_it_back(run):
    meta = checkpoint.load(run / "boosted.pt")
    predict_masks(
        [run / "boosted.pt"], run / "cache", "test", run / "forcrf", PredictSettings(device="cpu")
    )
    for k in (6, 7):
        out = run / f"crf{k}.png"
        refine_file(
            CRFTask(
                str(run / f"img{k}.png"),
                str(run / f"forcrf/probs/p{k}.npy"),
                str(out),
                mapping_from_meta(meta),
                CRFParams(),
            )
        )
        assert set(np.unique(read_mask(out)).tolist()) <= {0, 255}


def test_the_onnx_export_drops_it_as_unet_predict_does(run):
    from tests.test_export import _session
    from unet.model.export import export_onnx

    export_onnx(run / "boosted.pt", run / "m.onnx")
    session, meta = _session(run / "m.onnx")
    image = np.asarray(Image.open(run / "new6.png"))  # the model's input size: no resize
    predict_files(
        [run / "boosted.pt"], [run / "new6.png"], run / "onnx_ref", PredictSettings(device="cpu")
    )
    (logits,) = session.run(None, {"image": (image.astype(np.float32) / 255)[None, None]})
    mask = np.array(meta["class_values"])[logits[0].argmax(0)]
    np.testing.assert_array_equal(mask, read_mask(run / "onnx_ref/new6.png"))
    assert UNTRAINED not in mask


def test_each_fold_and_a_fine_tuned_model_record_their_own(tmp_path):
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L", _mask)
    ids = [f"p{i}" for i in range(8)]
    write_json(
        tmp_path / "split.json",
        {"train": ids[:4], "val": ids[4:6], "test": ids[6:], "folds": [ids[:3], ids[3:6]]},
    )
    _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, MASKS))
    # fold 0 trains on fold 1 (p4, p5 hold class 2); fold 1 on fold 0, which lacks it
    assert checkpoint.load(_train(tmp_path, 0))["trained_classes"] == [0, 1, 2]
    assert checkpoint.load(_train(tmp_path, 1))["trained_classes"] == [0, 1]
    # fine-tuned from fold 0's model: the source's weights learnt class 2
    tuned = _train(tmp_path, init_from=str(tmp_path / "fold0.pt"))  # the train split lacks it
    assert checkpoint.load(tuned)["trained_classes"] == [0, 1, 2]
