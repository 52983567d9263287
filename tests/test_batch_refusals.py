"""A batch larger than what an epoch draws is refused with the fix that fits the data: with
patches the count is of patches (images x train.patch.per_image), which the message called
images, and it never named per_image; one training image cannot be helped by a smaller
batch (2 at least: BatchNorm), which the message still advised."""

from __future__ import annotations

import pytest

from unet.model.unet import UNetConfig
from unet.train.settings import TrainingError, TrainSettings, check_settings

MODEL = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)


def test_patches_count_as_patches_and_per_image_is_named():
    settings = TrainSettings(batch_size=8, patch={"size": [64, 64], "per_image": 3})
    with pytest.raises(TrainingError) as err:
        check_settings(settings, 6, None, MODEL)  # 2 training images x 3 patches
    text = str(err.value)
    assert "6 patches" in text and "2 training images" in text
    assert "train.patch.per_image" in text and "6 images" not in text
    check_settings(settings, 8, None, MODEL)  # as many patches as the batch: fine


def test_one_training_image_is_not_told_to_lower_the_batch():
    with pytest.raises(TrainingError) as err:
        check_settings(TrainSettings(batch_size=2), 1, [64, 64], MODEL)
    text = str(err.value)
    assert "1 image" in text and "lower train.batch_size" not in text
    assert "train.patch" in text  # patches are how one image fills a batch
    with pytest.raises(TrainingError, match=r"batch_size=4.*3 images.*lower train.batch_size"):
        check_settings(TrainSettings(batch_size=4), 3, [64, 64], MODEL)


def test_a_warm_up_longer_than_the_training_is_refused_without_the_workflow_too():
    # train_unet called from Python (no config validation) ran 2 epochs of a 3-epoch warm-up:
    # the rate never reached train.lr nor decayed, and nothing said so.
    with pytest.raises(TrainingError, match=r"train.warmup_epochs 3.*train.epochs 2"):
        check_settings(TrainSettings(epochs=2, warmup_epochs=3, batch_size=2), 4, [64, 64], MODEL)
    check_settings(TrainSettings(epochs=3, warmup_epochs=3, batch_size=2), 4, [64, 64], MODEL)
    plateau = TrainSettings(epochs=2, warmup_epochs=3, schedule="plateau", batch_size=2)
    check_settings(plateau, 4, [64, 64], MODEL)  # no warm-up there
