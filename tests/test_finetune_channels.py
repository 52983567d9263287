"""train.init_from across grey and RGB images: the source's first convolution adapted so that
an image whose three channels are equal gives the source's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig
from unet.train.finetune import source_weights
from unet.train.settings import TrainingError

MODEL = {"depth": 2, "base_width": 8}
SMP = {"arch": "smp", "encoder": "resnet18", "depth": 3, "encoder_weights": None}


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    return synthetic_cache("ftc", {"count": 8, "width": 32, "height": 32, "seed": 2}, (32, 32))


def _source(path: Path, cache: Path, channels: int, model: dict) -> torch.nn.Module:
    """A model file of `channels`-channel images (random weights, ImageNet's normalisation)."""
    torch.manual_seed(channels)
    config = UNetConfig(in_channels=channels, num_classes=2, **model)
    net = build_model(config, pretrained=False)
    if model is SMP:  # an encoder's normalisation, as pretrained weights give
        from unet.model.pretrained import normalisation

        mean, std = normalisation(config)
        net.mean.copy_(torch.tensor(mean).view(1, -1, 1, 1))
        net.std.copy_(torch.tensor(std).view(1, -1, 1, 1))
    meta = {**json.loads((cache / "meta.json").read_text()), "in_channels": channels}
    record = checkpoint.model_record(config.to_dict(), net.state_dict(),
                                     meta, {}, 1, None, [0.5, 0.5], "h")
    checkpoint.save(path, record)
    return net.eval()


@pytest.mark.parametrize(("model", "theirs", "mine"), [(MODEL, 1, 3), (MODEL, 3, 1), (SMP, 1, 3)],
                         ids=["unet-grey-rgb", "unet-rgb-grey", "smp-grey-rgb"])
def test_a_grey_model_fine_tunes_on_rgb_and_back(cache, tmp_path, model, theirs, mine):
    # Refused before ("convert the images to the source's channels"): a grey microscopy model
    # could not start an RGB run, nor an RGB one a grey run, though both are one sum apart.
    if model is SMP:
        pytest.importorskip("segmentation_models_pytorch")
    source = _source(tmp_path / "s.pt", cache, theirs, model)
    config = UNetConfig(in_channels=mine, num_classes=2, **model)
    target = build_model(config, pretrained=False)
    meta = {**json.loads((cache / "meta.json").read_text()), "in_channels": mine}
    target.load_state_dict(source_weights(tmp_path / "s.pt", config, meta, model=target))
    grey = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        want = source(grey.expand(-1, theirs, -1, -1))
        got = target.eval()(grey.expand(-1, mine, -1, -1))
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_an_rgb_encoder_for_grey_images_is_summed_as_smp_does(cache, tmp_path):
    # No weights give an RGB encoder's output for grey images when its three channels are
    # normalised apart; smp's own pretrained encoders for in_channels 1 sum the first
    # convolution and this project averages their normalisation: the same here.
    pytest.importorskip("segmentation_models_pytorch")
    source = _source(tmp_path / "s.pt", cache, 3, SMP)
    config = UNetConfig(in_channels=1, num_classes=2, **SMP)
    meta = {**json.loads((cache / "meta.json").read_text()), "in_channels": 1}
    state = source_weights(tmp_path / "s.pt", config, meta, model=build_model(config, False))
    conv = "net.encoder.conv1.weight"
    torch.testing.assert_close(state[conv], source.state_dict()[conv].sum(1, keepdim=True))
    for key in ("mean", "std"):
        torch.testing.assert_close(state[key], source.state_dict()[key].mean(1, keepdim=True))


def test_other_channel_counts_are_still_refused(cache, tmp_path):
    _source(tmp_path / "s.pt", cache, 3, MODEL)
    config = UNetConfig(in_channels=4, num_classes=2, **MODEL)
    meta = json.loads((cache / "meta.json").read_text())
    with pytest.raises(TrainingError, match=r"3-channel images there vs 4-channel here.*convert"):
        source_weights(tmp_path / "s.pt", config, meta, model=build_model(config, False))


def test_training_starts_from_a_grey_source_on_rgb_images(cache, tmp_path, caplog):
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    source = _source(tmp_path / "grey.pt", cache, 1, MODEL)
    caplog.set_level("INFO")
    settings = TrainSettings(epochs=1, batch_size=4, device="cpu", lr=0.0, warmup_epochs=0,
                             init_from=str(tmp_path / "grey.pt"))
    out = tmp_path / "tuned"
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", MODEL, settings)
    assert "adapted to 3-channel" in caplog.text
    tuned = checkpoint.load(out / "model.pt")["state_dict"]
    first = next(k for k, v in tuned.items() if v.ndim == 4)
    torch.testing.assert_close(tuned[first], source.state_dict()[first].repeat(1, 3, 1, 1) / 3)
