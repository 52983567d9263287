"""arch smp pads any input to its multiple: training takes whole images (and crops) below
2**depth, as the config check and the README say; they were refused by training alone, after
preprocessing. Patches are tiles of a sliding window whose starts keep that multiple: below
it the tiles would leave gaps, so a smaller patch is refused by the config check already."""

import pytest
import torch

from tests.test_config_checks import _default_config
from unet.config.experiments import ConfigError, check_config
from unet.model.build import build_model
from unet.model.unet import UNetConfig
from unet.train.settings import TrainingError, TrainSettings, check_settings

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")

SMP = UNetConfig(in_channels=3, num_classes=2, depth=5, arch="smp", encoder="resnet18",
                 encoder_weights=None)


def test_small_inputs_train_an_smp_model():
    config = _default_config()
    config["model"].update(arch="smp", depth=5, encoder="resnet18", encoder_weights=None)
    config["preprocess"].update(width=24, height=20)
    check_config(config)  # the config check lets it through ...
    check_settings(TrainSettings(batch_size=2), 8, [24, 20], SMP)  # ... and so does training
    check_settings(TrainSettings(batch_size=2, augment={"crop": [16, 16]}), 8, [24, 20], SMP)
    net = build_model(SMP).train()  # and it trains there: padded to 32x32
    net(torch.rand(2, 3, 20, 24)).sum().backward()


def test_the_unet_still_needs_its_minimum():
    unet = UNetConfig(in_channels=3, num_classes=2, depth=5)
    with pytest.raises(TrainingError, match="too small for model.depth=5"):
        check_settings(TrainSettings(batch_size=2), 8, [24, 20], unet)


def test_patches_below_the_tile_step_are_refused_with_the_config():
    config = _default_config()
    config["model"].update(arch="smp", depth=5, encoder="resnet18", encoder_weights=None)
    config["preprocess"].update(mode="native")
    config["train"]["patch"]["size"] = [16, 16]
    with pytest.raises(ConfigError, match=r"model.depth 5 needs .*train.patch.size is 16x16"):
        check_config(config)
    with pytest.raises(TrainingError, match="train.patch.size 16x16 is too small"):
        check_settings(TrainSettings(batch_size=2, patch={"size": [16, 16]}), 8, None, SMP)
