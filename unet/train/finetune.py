"""`train.init_from`: start training from an earlier model's weights (fine-tuning)."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch
from torch import nn

from unet.common.labels import mapping_from_meta
from unet.model import checkpoint
from unet.model.unet import UNetConfig
from unet.train.settings import TrainingError

log = logging.getLogger(__name__)


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file: a changed source model must not resume a run begun from the old one."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# The model settings that decide which weights a network has: dropout has none, and an
# encoder's pretrained weights (encoder_weights) are replaced by the source's; base_width,
# bilinear and norm are arch unet's only, encoder arch smp's only. Channels and classes come
# from the data (images, mask values), compared apart.
_SHAPING = ("arch", "depth")
_SHAPING_BY_ARCH = {"unet": ("base_width", "bilinear", "norm"), "smp": ("encoder",)}


def _differences(theirs: dict, mine: dict, there, here, new_head: bool = False
                 ) -> tuple[list[str], str]:
    """(each difference in words, what to do about them); `new_head`: other classes are no
    difference (train.reinit_head: the output layer is not taken from the source)."""
    same_arch = theirs["arch"] == mine["arch"]  # else the arch's own settings mean nothing
    keys = _SHAPING + (_SHAPING_BY_ARCH.get(mine["arch"], ()) if same_arch else ())
    model = [f"model.{k} {theirs[k]} there vs {mine[k]} here" for k in keys
             if theirs[k] != mine[k]]
    fixes = ["set those model settings as the source's (unet info shows them)"] if model else []
    data = []
    if not _adaptable(theirs["in_channels"], mine["in_channels"]):
        data.append(f"{theirs['in_channels']}-channel images there vs "
                    f"{mine['in_channels']}-channel here")
        fixes.append("convert the images to the source's channels (grey or RGB)")
    classes = theirs["num_classes"], mine["num_classes"]
    if not new_head and ((there.groups(), there.rgb) != (here.groups(), here.rgb)
                         or classes[0] != classes[1]):
        counts = f" ({classes[0]} classes vs {classes[1]})" if classes[0] != classes[1] else ""
        data.append(f"mask values {there.labels()} there vs {here.labels()} here{counts}")
        fixes.append("give masks of the source's classes and values (masks.values or "
                     "masks.colors order, group and pick the classes; other values need the "
                     "masks rewritten), or set train.reinit_head: true to keep every layer "
                     "but the output one, which starts anew for this run's classes")
    return model + data, "; ".join(fixes + ["or train without train.init_from"])


def _adaptable(theirs: int, mine: int) -> bool:
    """Whether the source's input layer can take this run's channels: the same, or grey and
    RGB (any other count, e.g. a fourth band, has no weights that mean anything)."""
    return theirs == mine or {theirs, mine} == {1, 3}


def adapt_channels(state: dict, model: nn.Module, theirs: int, mine: int) -> dict:
    """`state` (of a `theirs`-channel network) for `model`'s `mine` input channels. A grey
    network's input convolution is repeated over R, G and B at a third of its weight, an RGB
    one's summed over them, so that an image whose channels are equal gives the source's
    output; an encoder's normalisation (buffers) is repeated or averaged."""
    if theirs == mine:
        return state
    params = {name for name, _ in model.named_parameters()}
    adapted = dict(state)
    for key, want in model.state_dict().items():
        have = state.get(key)
        if have is None or have.ndim < 2 or (have.shape[1], want.shape[1]) != (theirs, mine):
            continue
        if key in params:
            adapted[key] = (have.repeat(1, mine, *[1] * (have.ndim - 2)) / mine if theirs == 1
                            else have.sum(1, keepdim=True))
        else:
            adapted[key] = (have.repeat(1, mine, *[1] * (have.ndim - 2)) if theirs == 1
                            else have.mean(1, keepdim=True))
    return adapted


def fold_source(init_from: str, fold: int | None) -> str:
    """train.init_from for cross-validation fold `fold`: `{fold}` becomes its number, so each
    fold starts from the source run's model of the same fold."""
    if "{fold}" not in init_from:
        return init_from
    if fold is None:
        raise ValueError(f"train.init_from {init_from} has {{fold}}, for cross-validation "
                         "runs only (split.folds 2 or more): give one model.pt")
    return init_from.replace("{fold}", str(fold))


def _warn_other_fold(path: Path, ckpt: dict, fold: int | None) -> None:
    """A fold started from another fold's model of the same folds has seen its validation
    images: its validation Dice, and the choices made on it, are too good."""
    theirs = ckpt.get("fold")
    if fold is None or theirs is None or theirs == fold:
        return
    log.warning(
        "train.init_from %s is fold %s's model of a cross-validation run, starting fold %s: "
        "if both runs split the same images, it trained on this fold's validation images and "
        "this fold's validation scores are too good; give folds/{fold}/model.pt so each fold "
        "starts from its own", path, theirs, fold)


def source_record(path: str | os.PathLike, config: UNetConfig, meta: dict,
                  fold: int | None = None, new_head: bool = False) -> dict:
    """The model file at `path`, refused unless its network and classes are this run's (the
    error names every difference); `fold`: this run's (warns if another's); `new_head`
    (train.reinit_head): its classes may differ."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"train.init_from {path}: no such model file; give a model.pt path")
    # as prediction reads it: an older file's missing settings at their defaults, and one whose
    # settings do not fit its weights refused (CheckpointError) naming what differs
    try:
        _, ckpt = checkpoint.load_model(path)
        theirs = checkpoint.network_config(path, ckpt).to_dict()
    except checkpoint.CheckpointError as err:  # it names the file: say which setting gave it
        raise checkpoint.CheckpointError(f"train.init_from: {err}") from None
    differs, fix = _differences(theirs, config.to_dict(), mapping_from_meta(ckpt),
                                mapping_from_meta(meta), new_head)
    if differs:
        raise TrainingError(
            f"train.init_from {path}: its network or data differ from this run's ("
            + "; ".join(differs) + f"); {fix}"
        )
    _warn_other_fold(path, ckpt, fold)
    return ckpt


def recorded_encoder(ckpt: dict | None) -> dict | None:
    """A source model file's record of its timm folder or Hub encoder (encoder_source): this
    run's network is built from it, so tuning needs neither that folder nor the Hub."""
    return (ckpt or {}).get("encoder_source")


# The output layer's state keys: this project's UNet's 1x1 head, smp's segmentation head.
HEAD_PREFIXES = ("head.", "net.segmentation_head.")


def _new_head(state: dict, model: nn.Module, path, classes: int) -> dict:
    """`state` with the output layer's weights replaced by `model`'s own initialisation: a
    source of other classes (train.reinit_head) gives every other layer."""
    own = {k: v for k, v in model.state_dict().items() if k.startswith(HEAD_PREFIXES)}
    log.info("train.reinit_head: every layer of %s kept but the output layer (%s), which "
             "starts anew for this run's %d classes", path, ", ".join(own), classes)
    return {**state, **own}


def source_weights(path: str | os.PathLike, config: UNetConfig, meta: dict,
                   fold: int | None = None, model: nn.Module | None = None,
                   ckpt: dict | None = None, new_head: bool = False) -> dict:
    """The state dict of the model at `path` (source_record's checks; `ckpt`: its record, read
    already). `model`, this run's network, takes a grey source's weights for RGB images or
    back, and with `new_head` (train.reinit_head) its own output layer."""
    ckpt = ckpt if ckpt is not None else source_record(path, config, meta, fold, new_head)
    log.info("starting from the weights of %s (epoch %s)", path, ckpt.get("epoch"))
    channels = ckpt["in_channels"], config.in_channels
    if model is None and (new_head or channels[0] != channels[1]):
        raise TrainingError(f"train.init_from {path}: {channels[0]}-channel images there vs "
                            f"{channels[1]}-channel here (or train.reinit_head), and no "
                            "network to adapt it to")
    state = ckpt["state_dict"]
    if channels[0] != channels[1]:
        log.info("its input layer, of %d-channel images, adapted to %d-channel ones", *channels)
        with torch.no_grad():
            state = adapt_channels(state, model, *channels)
    return _new_head(state, model, path, config.num_classes) if new_head else state
