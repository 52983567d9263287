"""A model.pt predicts on another machine: without the timm folder or Hugging Face repository
its encoder came from, no network, empty caches, and the project folder left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.cli import main
from unet.model import checkpoint
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")
ARCH = "test_resnet"  # timm's tiny test network: trains in seconds


def _timm_folder(folder: Path) -> Path:
    """A timm model folder (config.json + model.safetensors), as a download from the Hub has."""
    import timm
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    net = timm.create_model(ARCH, pretrained=False)
    save_file(net.state_dict(), str(folder / "model.safetensors"))
    cfg = {k: net.pretrained_cfg.get(k) for k in ("input_size", "first_conv", "classifier")}
    (folder / "config.json").write_text(json.dumps({
        "architecture": ARCH, "num_classes": 1000,
        "pretrained_cfg": {**cfg, "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}}))
    return folder


def _hub_cache(monkeypatch, cache: Path, repo: str, snapshot: Path | None) -> None:
    """The Hugging Face cache at `cache`, offline: `repo`'s files are `snapshot`'s, if given."""
    from huggingface_hub import constants

    if snapshot is not None:
        root = cache / f"models--{repo.replace('/', '--')}"
        (root / "refs").mkdir(parents=True)
        (root / "refs" / "main").write_text("0" * 40)
        shutil.copytree(snapshot, root / "snapshots" / ("0" * 40))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _images(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name, shape in (("a", (40, 60, 3)), ("b", (33, 47, 3))):
        Image.fromarray(rng.integers(0, 255, shape, np.uint8)).save(folder / f"{name}.png")
    return folder


def _timm_model(source: str, tmp_path: Path, monkeypatch) -> tuple[Path, dict]:
    """A tiny timm encoder's folder, served as a local-dir or (offline) Hub encoder, and the
    model section that trains an smp UNet on it."""
    folder = _timm_folder(tmp_path / "encoder")
    if source == "hf-hub":
        _hub_cache(monkeypatch, tmp_path / "hub", "org/tiny", folder)
    encoder = f"tu-local-dir:{folder}" if source == "local-dir" else "tu-hf-hub:org/tiny"
    return folder, {"arch": "smp", "encoder": encoder, "encoder_weights": "imagenet", "depth": 3}


@pytest.mark.parametrize("source", ["local-dir", "hf-hub"])
def test_a_timm_folder_or_hub_model_predicts_from_its_file_alone(
        source, synthetic_cache, tmp_path, monkeypatch):
    # timm builds a tu-local-dir: or tu-hf-hub: encoder's network from that folder's or
    # repository's config.json, and did so for prediction too: a model.pt taken to another
    # machine failed without the folder, or without the Hub (or its cache) for a Hub encoder.
    data = synthetic_cache("port", {"count": 10, "width": 60, "height": 40, "seed": 3}, (48, 32))
    folder, model = _timm_model(source, tmp_path, monkeypatch)
    run = tmp_path / "project" / "run"
    train_unet(data, run / "model.pt", run / "history.csv", run / "ck", model,
               TrainSettings(epochs=1, batch_size=2, device="cpu"))
    images = _images(tmp_path / "new")
    assert main(["predict", str(run / "model.pt"), str(images), "-o", str(tmp_path / "here"),
                 "--device", "cpu"]) == 0
    # another machine: the model file alone, none of the folders, caches or network
    away = tmp_path / "elsewhere" / "model.pt"
    away.parent.mkdir()
    shutil.copy(run / "model.pt", away)
    shutil.rmtree(tmp_path / "project")
    folder.rename(tmp_path / "moved")
    _hub_cache(monkeypatch, tmp_path / "empty-hub", "org/tiny", None)
    for var in ("HF_HOME", "TORCH_HOME"):
        monkeypatch.setenv(var, str(tmp_path / f"empty-{var}"))
    assert main(["predict", str(away), str(images), "-o", str(tmp_path / "there"),
                 "--device", "cpu"]) == 0
    for png in sorted((tmp_path / "here").glob("*.png")):
        assert (tmp_path / "there" / png.name).read_bytes() == png.read_bytes(), png.name
    assert checkpoint.load(away)["model_config"]["encoder"] == model["encoder"]  # as trained


def test_an_older_model_file_without_the_record_still_loads(tmp_path, monkeypatch):
    # Files written before encoder_source was recorded are rebuilt as before, from the folder;
    # with the folder gone (or the Hub out of reach) the error names what to bring back.
    from unet.model.build import build_model
    from unet.model.pretrained import ModelError
    from unet.model.unet import UNetConfig

    folder = _timm_folder(tmp_path / "encoder")
    for encoder in (f"tu-local-dir:{folder}", "tu-hf-hub:org/tiny"):
        _hub_cache(monkeypatch, tmp_path / encoder[3:9], "org/tiny", folder)
        cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp", encoder=encoder,
                         encoder_weights="imagenet")
        net = build_model(cfg)
        assert net.source == {"architecture": ARCH, "model_args": {}}
        meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 3, "num_classes": 2}
        record = checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1, None,
                                         [0.5, 0.5], "h")  # no encoder_source, as before
        checkpoint.save(tmp_path / "old.pt", record)
        rebuilt, _ = checkpoint.load_model(tmp_path / "old.pt")
        assert rebuilt.mean.flatten().tolist() == pytest.approx([0.5, 0.4, 0.3])
        _hub_cache(monkeypatch, tmp_path / "empty", "org/tiny", None)
        if encoder.startswith("tu-local-dir:"):
            folder.rename(tmp_path / "moved")
        with pytest.raises(ModelError, match=r"(folder|HF_HOME).*retrain|back at that path"):
            checkpoint.load_model(tmp_path / "old.pt")
        if encoder.startswith("tu-local-dir:"):
            (tmp_path / "moved").rename(folder)


def test_training_offline_without_cached_weights_names_the_fetch_step(monkeypatch):
    # With HF_HUB_OFFLINE=1 (compute nodes) and weights missing from the cache, the Hub raises
    # LocalEntryNotFoundError, a FileNotFoundError: that was re-raised as a bare traceback
    # instead of the message that names the fetch_encoder_weights step and HF_HOME.
    from huggingface_hub.errors import LocalEntryNotFoundError
    from segmentation_models_pytorch import encoders

    from unet.model.build import build_model
    from unet.model.pretrained import ModelError
    from unet.model.unet import UNetConfig

    def offline(*_, **__):
        raise LocalEntryNotFoundError("cannot find the requested files in the local cache")

    monkeypatch.setattr(encoders, "hf_hub_download", offline)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp", encoder="resnet18",
                     encoder_weights="imagenet")
    with pytest.raises(ModelError, match=r"fetch_encoder_weights.*HF_HOME"):
        build_model(cfg)


@pytest.mark.parametrize("source", ["local-dir", "hf-hub"])
def test_a_timm_folder_or_hub_model_fine_tunes_from_its_file_alone(
        source, synthetic_cache, tmp_path, monkeypatch):
    # train.init_from built the network from model.encoder's folder or Hub repository, not from
    # the source file's record: a user given only model.pt could predict with it, not tune it.
    data = synthetic_cache("tune", {"count": 10, "width": 60, "height": 40, "seed": 4}, (48, 32))
    folder, model = _timm_model(source, tmp_path, monkeypatch)
    run = tmp_path / "project"
    train_unet(data, run / "model.pt", run / "history.csv", run / "ck", model,
               TrainSettings(epochs=1, batch_size=2, device="cpu"))
    given = tmp_path / "given.pt"
    shutil.copy(run / "model.pt", given)
    folder.rename(tmp_path / "moved")
    _hub_cache(monkeypatch, tmp_path / "empty-hub", "org/tiny", None)
    tuned = tmp_path / "tuned"
    train_unet(data, tuned / "model.pt", tuned / "history.csv", tuned / "ck", model,
               TrainSettings(epochs=1, batch_size=2, device="cpu", init_from=str(given)))
    record = checkpoint.load(tuned / "model.pt")
    assert record["encoder_source"] == {"architecture": ARCH, "model_args": {}}
    assert record["model_config"]["encoder"] == model["encoder"]
    images = _images(tmp_path / "new")
    assert main(["predict", str(tuned / "model.pt"), str(images), "-o", str(tmp_path / "out"),
                 "--device", "cpu"]) == 0


def test_a_recorded_encoder_saved_through_torch_compile_loads_without_its_folder(tmp_path):
    # A record (encoder_source) whose weights carry torch.compile's _orig_mod. prefix was taken
    # for a record of another network, dropped, and the network rebuilt from the folder: on
    # another machine (no folder) the file was refused, though the prefix was all that differed.
    from unet.model.build import build_model
    from unet.model.unet import UNetConfig

    folder = _timm_folder(tmp_path / "encoder")
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{folder}", encoder_weights="imagenet")
    net = build_model(cfg)
    meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 3, "num_classes": 2}
    state = {"_orig_mod." + k: v for k, v in net.state_dict().items()}
    record = checkpoint.model_record(cfg.to_dict(), state, meta, {}, 1, None, [0.5, 0.5], "h",
                                     encoder_source=net.source)
    checkpoint.save(tmp_path / "model.pt", record)
    folder.rename(tmp_path / "moved")
    rebuilt, ckpt = checkpoint.load_model(tmp_path / "model.pt")
    assert ckpt["encoder_source"] == net.source
    assert rebuilt.mean.flatten().tolist() == pytest.approx([0.5, 0.4, 0.3])
