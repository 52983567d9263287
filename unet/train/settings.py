"""Training settings (config section `train`) and the checks that refuse impossible ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from unet.common.schema import defaults
from unet.common.shapes import crop_fits
from unet.model.unet import UNet, UNetConfig
from unet.train.augment import AugmentSettings
from unet.train.border import BorderSettings

_D = defaults("train")  # field defaults: config/schema.yaml
_P = _D["patch"]


@dataclass(frozen=True)
class PatchSettings:
    """Patch training (config `train.patch`): size, foreground share, patches per image."""

    size: tuple[int, int] | None = _P["size"]  # (width, height); None = whole cached images
    foreground: float = _P["foreground"]  # share of patches centred on a foreground pixel
    per_image: int = _P["per_image"]  # patches per training image and epoch

    @property
    def hw(self) -> tuple[int, int] | None:
        """(height, width) of the patches, or None."""
        return (self.size[1], self.size[0]) if self.size else None


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (config section `train`)."""

    epochs: int = _D["epochs"]
    batch_size: int = _D["batch_size"]
    optimizer: str = _D["optimizer"]  # adamw | sgd | rmsprop
    lr: float = _D["lr"]
    momentum: float = _D["momentum"]  # sgd (Nesterov) and rmsprop
    weight_decay: float = _D["weight_decay"]
    schedule: str = _D["schedule"]  # cosine | poly | plateau | constant
    warmup_epochs: int = _D["warmup_epochs"]
    grad_clip: float = _D["grad_clip"]  # max gradient norm; 0 = off
    ema: float = _D["ema"]  # decay of the weights' moving average per step; 0 = off
    dice_weight: float = _D["dice_weight"]
    # Cross-entropy weight per class; [] = equal.
    class_weights: list[float] = field(default_factory=lambda: list(_D["class_weights"]))
    patience: int = _D["patience"]  # epochs without a better val Dice before stopping; 0 = off
    val_every: int = _D["val_every"]  # validate every N-th epoch and the last; 1 = every epoch
    seed: int = _D["seed"]
    device: str = _D["device"]
    amp: bool = _D["amp"]
    amp_cpu: bool | str = _D["amp_cpu"]  # bf16 autocast on the CPU too: auto | true | false
    channels_last: bool = _D["channels_last"]  # NHWC: faster convolutions on CUDA and CPU
    compile: bool = _D["compile"]  # torch.compile the model (CUDA; slow to start)
    num_workers: int = _D["num_workers"]
    augment: AugmentSettings = field(default_factory=AugmentSettings)  # or its dict (config)
    patch: PatchSettings = field(default_factory=PatchSettings)  # or its dict (config)
    border_weight: BorderSettings = field(default_factory=BorderSettings)  # or its dict
    deterministic: bool | str = _D["deterministic"]  # auto = on except on CUDA
    max_minutes: float = _D["max_minutes"]  # stop cleanly after this long (0 = no limit)
    init_from: str | None = _D["init_from"]  # fine-tune: start from this model.pt's weights
    reinit_head: bool = _D["reinit_head"]  # fine-tune onto other classes: a new output layer

    def __post_init__(self) -> None:
        if isinstance(self.augment, dict):  # the config's nested section, typed here
            object.__setattr__(self, "augment", AugmentSettings(**self.augment))
        if isinstance(self.patch, dict):
            object.__setattr__(self, "patch", PatchSettings(**self.patch))
        if isinstance(self.border_weight, dict):
            object.__setattr__(self, "border_weight", BorderSettings(**self.border_weight))


class TrainingError(ValueError):
    """The settings cannot work with this data (said before any epoch runs)."""


def check_settings(
    settings: TrainSettings, n_train: int, size: list[int] | None, mcfg: UNetConfig
) -> None:
    """Refuse, naming the key, settings that cannot train on this data (`size`: the cache's
    one (w, h), None for a native-size cache)."""
    patch = settings.patch.size
    # smp's Unet pads any input to its multiple (unet.model.pretrained), the UNet pools it;
    # patches, also smp's, are sliding-window tiles whose starts keep that multiple
    least = UNet.min_size(mcfg.depth) if mcfg.arch == "unet" else 0
    tile = UNet.min_size(mcfg.depth)
    if size is None and not patch:
        raise TrainingError(
            "preprocess.mode native caches images of different sizes, which train as patches: "
            "set train.patch.size, e.g. [256, 256]"
        )
    if patch and settings.augment.crop:
        raise TrainingError(
            "train.patch.size and train.augment.crop both crop the training images; "
            "keep train.patch (crop is for whole-image training) and set crop to null"
        )
    if patch and min(patch) < tile:
        raise TrainingError(
            f"train.patch.size {patch[0]}x{patch[1]} is too small for model.depth="
            f"{mcfg.depth} (needs at least {tile} px a side)"
        )
    size = size or patch
    _check_batch(settings, n_train)
    if settings.schedule != "plateau" and settings.warmup_epochs > settings.epochs:
        raise TrainingError(  # as the workflow's config check, for callers without it
            f"train.warmup_epochs {settings.warmup_epochs} is longer than train.epochs "
            f"{settings.epochs}: the lr would never reach train.lr nor decay; lower the warmup "
            "(e.g. 1) or train longer"
        )
    if min(size) < least:
        raise TrainingError(
            f"preprocess size {size[0]}x{size[1]} is too small for model.depth={mcfg.depth} "
            f"(needs at least {least} px a side); enlarge preprocess or lower depth"
        )
    crop = settings.augment.crop
    if crop and not crop_fits(crop, size, mcfg.depth if least else 0):
        raise TrainingError(
            f"train.augment.crop {crop[0]}x{crop[1]} must fit in the preprocess size "
            f"{size[0]}x{size[1]} and be at least {least} px a side "
            f"for model.depth={mcfg.depth}"
        )
    if settings.class_weights and len(settings.class_weights) != mcfg.num_classes:
        raise TrainingError(
            f"train.class_weights has {len(settings.class_weights)} values but the data has "
            f"{mcfg.num_classes} classes; give one weight per class or []"
        )
    objects = settings.border_weight.objects
    if objects is not None and objects >= mcfg.num_classes:
        raise TrainingError(
            f"train.border_weight.objects {objects} is no class of the data (0 to "
            f"{mcfg.num_classes - 1}); give the class whose components are the objects, or null"
        )


def _check_batch(settings: TrainSettings, n_train: int) -> None:
    """Refuse a batch larger than the samples an epoch draws (`n_train`: images, or patches),
    with the fix that fits: a batch holds at least 2 (BatchNorm), so one image needs patches."""
    batch = settings.batch_size
    if batch <= n_train:
        return
    head = f"train.batch_size={batch} is larger than"
    per = settings.patch.per_image
    if settings.patch.size:
        raise TrainingError(
            f"{head} the {n_train} patches an epoch draws ({n_train // per} training images x "
            f"train.patch.per_image={per}); raise train.patch.per_image, lower "
            "train.batch_size (2 at least) or add images"
        )
    if n_train < 2:
        raise TrainingError(
            f"{head} the training split ({n_train} image), and a batch needs 2 at least "
            "(BatchNorm): add images, or train on patches of it (train.patch.size, and "
            "train.patch.per_image of at least train.batch_size)"
        )
    raise TrainingError(f"{head} the training split ({n_train} images); lower "
                        "train.batch_size or add images")


def check_val(n_val: int, fold: int | None) -> None:
    """Refuse an empty validation part before an epoch: it selects the epoch kept and stops
    training early, and preprocess caches an empty one from a split.json written by hand."""
    if n_val:
        return
    if fold is not None:  # folds are cut from the images: an empty one is no split.json's
        raise TrainingError(f"fold {fold} holds no images: lower split.folds")
    raise TrainingError(
        "the cache's val part is empty (its split.json lists no val images): validation selects "
        "the epoch kept, stops training early and tunes the CRF; move some of split.json's "
        "train images into its val list, or delete split.json to let split_dataset write one "
        "by split.val_fraction")
