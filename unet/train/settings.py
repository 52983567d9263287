"""Training settings (config section `train`) and the checks that refuse impossible ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from unet.model.unet import UNet, UNetConfig


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (config section `train`)."""

    epochs: int = 12
    batch_size: int = 8
    optimizer: str = "adamw"  # adamw | sgd | rmsprop
    lr: float = 2e-3
    momentum: float = 0.9  # sgd (Nesterov) and rmsprop
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # cosine | poly | plateau | constant
    warmup_epochs: int = 1
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    dice_weight: float = 1.0
    class_weights: list[float] = field(default_factory=list)  # cross-entropy weights; [] = equal
    patience: int = 0  # early stopping after this many epochs without a better val Dice; 0 = off
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True  # NHWC: faster convolutions on CUDA and on CPU (oneDNN)
    compile: bool = False  # torch.compile the model (CUDA; slow to start)
    num_workers: int = 0
    augment: dict = field(default_factory=dict)  # AugmentSettings fields
    deterministic: bool | str = "auto"  # auto = on except on CUDA (cudnn autotuning there)
    max_minutes: float = 0.0  # stop cleanly after this long (0 = no limit), before a walltime


class TrainingError(ValueError):
    """The settings cannot work with this data (said before any epoch runs)."""


def check_settings(
    settings: TrainSettings, n_train: int, size: list[int], mcfg: UNetConfig
) -> None:
    """Refuse, naming the key, settings that cannot train on this data."""
    if settings.batch_size > n_train:
        raise TrainingError(
            f"train.batch_size={settings.batch_size} is larger than the training split "
            f"({n_train} images); lower train.batch_size or add images"
        )
    if min(size) < UNet.min_size(mcfg.depth):
        raise TrainingError(
            f"preprocess size {size[0]}x{size[1]} is too small for model.depth={mcfg.depth} "
            f"(needs at least {UNet.min_size(mcfg.depth)} px a side); enlarge preprocess or "
            "lower depth"
        )
    crop = settings.augment.get("crop")
    if crop and (crop[0] > size[0] or crop[1] > size[1] or min(crop) < UNet.min_size(mcfg.depth)):
        raise TrainingError(
            f"train.augment.crop {crop[0]}x{crop[1]} must fit in the preprocess size "
            f"{size[0]}x{size[1]} and be at least {UNet.min_size(mcfg.depth)} px a side "
            f"for model.depth={mcfg.depth}"
        )
    if settings.class_weights and len(settings.class_weights) != mcfg.num_classes:
        raise TrainingError(
            f"train.class_weights has {len(settings.class_weights)} values but the data has "
            f"{mcfg.num_classes} classes; give one weight per class or []"
        )
