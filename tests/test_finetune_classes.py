"""train.reinit_head: fine-tuning onto other classes keeps every layer of the source model but
the output one, which starts anew; the log and model.pt say so."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json
from unet.dataset.download import download_dataset
from unet.dataset.split import make_split
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig
from unet.train.settings import TrainingError, TrainSettings
from unet.train.train import train_unet

MODEL = {"depth": 2, "base_width": 8}


def _cache(root: Path, classes: int) -> Path:
    """A tiny synthetic data set of `classes` foreground classes, cached at 48x32."""
    data = {"count": 20, "width": 48, "height": 32, "seed": 5, "classes": classes}
    manifest = download_dataset(root / "manifest.json", "synthetic", data)
    write_json(root / "split.json", make_split([p["id"] for p in manifest["pairs"]], 0, 0.2, 0.2))
    preprocess(root / "manifest.json", root / "split.json", root / "cache",
               PreprocessSettings(width=48, height=32))
    return root / "cache"


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> dict[int, Path]:
    return {k: _cache(tmp_path_factory.mktemp(f"c{k}"), k) for k in (1, 2)}


def _train(cache: Path, out: Path, **kw) -> dict:
    settings = TrainSettings(**{"batch_size": 4, "device": "cpu", "epochs": 1, **kw})
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", MODEL, settings)
    return checkpoint.load(out / "model.pt")


@pytest.mark.parametrize("theirs, mine", [(1, 2), (2, 1)])  # binary -> 3 classes, and back
def test_other_classes_keep_every_layer_but_the_output_one(caches, tmp_path, theirs, mine):
    # Other classes were refused outright: a model could not be fine-tuned onto a data set of
    # other classes, the commonest transfer, however much of its network would serve.
    source = tmp_path / "a" / "model.pt"
    _train(caches[theirs], tmp_path / "a")
    with pytest.raises(TrainingError, match="train.reinit_head: true"):
        _train(caches[mine], tmp_path / "b", init_from=str(source))
    tuned = _train(caches[mine], tmp_path / "b", init_from=str(source), reinit_head=True)
    assert tuned["num_classes"] == mine + 1
    assert tuned["class_values"] == read_json(caches[mine] / "meta.json")["class_values"]
    assert tuned["train_settings"]["reinit_head"] is True
    from unet.train.finetune import HEAD_PREFIXES, source_weights

    model = build_model(UNetConfig(3, mine + 1, **MODEL), pretrained=False)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    state = source_weights(source, UNetConfig(3, mine + 1, **MODEL), {}, model=model,
                           ckpt=checkpoint.load(source), new_head=True)
    kept = checkpoint.load(source)["state_dict"]
    for key, value in state.items():
        want = fresh[key] if key.startswith(HEAD_PREFIXES) else kept[key]
        assert torch.equal(value, want), key


def test_the_log_names_the_layer_that_starts_anew(caches, tmp_path, caplog):
    _train(caches[1], tmp_path / "a")
    with caplog.at_level(logging.INFO, logger="unet.train.finetune"):
        _train(caches[2], tmp_path / "b", init_from=str(tmp_path / "a" / "model.pt"),
               reinit_head=True)
    assert "kept but the output layer (head.weight, head.bias)" in caplog.text, caplog.text
    assert "for this run's 3 classes" in caplog.text


def test_a_new_head_does_not_take_the_sources_classes_as_trained(caches, tmp_path):
    # A source's trained classes joined the new model's: with a new output layer they are
    # another data set's classes, which this model never learnt.
    source = _train(caches[2], tmp_path / "a")
    source["trained_classes"] = [0, 1, 2]
    checkpoint.save(tmp_path / "a" / "model.pt", source)
    from unet.train.classes import trained_classes
    from unet.train.train import _trained

    settings = TrainSettings(init_from=str(tmp_path / "a" / "model.pt"), reinit_head=True)
    rows = [("train", 0)]
    got = _trained(caches[1], type("S", (), {"rows": rows})(), UNetConfig(3, 2, **MODEL),
                   settings, None, None)
    assert got == trained_classes(caches[1], rows, 2)


def test_reinit_head_without_init_from_changes_nothing():
    # It has no weights to act on without a source: changing it alone must not retrain.
    from unet.common.applicable import applicable

    plain = {"epochs": 1, "init_from": None}
    assert applicable("train", {**plain, "reinit_head": True}) == applicable("train", plain)
    tuned = {**plain, "init_from": "base/model.pt", "reinit_head": True}
    assert applicable("train", tuned)["reinit_head"] is True


def test_info_says_the_output_layer_is_new():
    from unet.model.describe import _network

    cfg = {"arch": "unet", "depth": 2, "base_width": 8, "bilinear": True, "norm": "batch",
           "dropout": 0.0}
    assert "(weights from train.init_from a.pt but a new output layer)" in _network(
        cfg, "a.pt", True)
    smp = {"arch": "smp", "encoder": "resnet18", "encoder_weights": None, "depth": 3}
    assert "(weights from train.init_from a.pt but a new output layer)" in _network(
        smp, "a.pt", True)
