"""Pretrained encoders: segmentation-models-pytorch's Unet behind this project's interface.

The encoder's input normalisation is a buffer of the module, so the model file records it and
prediction needs nothing else; input of any size is padded to the encoder's multiple and the
logits cropped back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote

import torch
import torch.nn.functional as F
from torch import nn

from unet.common.fileio import write_json
from unet.model.timm_files import no_weights_fix, weights_file
from unet.model.unet import UNetConfig

log = logging.getLogger(__name__)
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # what nearly every encoder expects
DECODER = (256, 128, 64, 32, 16)  # smp's decoder widths, deepest first


class ModelError(ValueError):
    """The model settings cannot be built here."""


def _smp():
    try:
        import segmentation_models_pytorch as smp
    except ImportError as err:
        raise ModelError(
            "model.arch: smp needs segmentation-models-pytorch: pip install -e '.[smp]'"
        ) from err
    return smp


def normalisation(config: UNetConfig, net: nn.Module | None = None
                  ) -> tuple[list[float], list[float]]:
    """Per-channel mean and std for the encoder's pretrained weights (ImageNet's without), for
    `config.in_channels` bands; `net`, the built smp Unet, knows those of a timm encoder read
    from a folder or Hub repository (tu-local-dir:, tu-hf-hub:), which no registry lists."""
    mean, std = IMAGENET
    params: dict = {}
    if config.encoder_weights and ":" in config.encoder:  # the config timm read them with
        params = dict(getattr(getattr(getattr(net, "encoder", None), "model", None),
                              "pretrained_cfg", None) or {})
    elif config.encoder_weights:  # the weights' own statistics, fetched with them
        params = _smp().encoders.get_preprocessing_params(
            _as_built(config.encoder), pretrained=config.encoder_weights
        )
    mean, std = list(params.get("mean") or mean), list(params.get("std") or std)
    if config.in_channels == 1:  # grey: smp and timm sum the RGB filters, so the average
        return [sum(mean) / len(mean)], [sum(std) / len(std)]
    # other counts: band i gets RGB channel i % 3's filter (smp's and timm's first-conv
    # adaptation), so it is normalised as that channel was
    return ([mean[i % len(mean)] for i in range(config.in_channels)],
            [std[i % len(std)] for i in range(config.in_channels)])


def _as_built(encoder: str) -> str:
    """The name smp builds `encoder` as: its older timm- names of timm models (timm-regnetx_002,
    timm-mobilenetv3_small_100) are timm's own tu- encoders with timm's pretrained weights,
    whose statistics its table of encoders no longer lists."""
    mapped = getattr(_smp().encoders, "is_equivalent_to_timm_universal", None)  # smp >= 0.5
    if mapped is None or not mapped(encoder):  # before, its table listed them all
        return encoder
    name = encoder.replace("timm-", "tu-", 1)
    return name.replace("tu-", "tu-tf_", 1) if "mobilenetv3" in name else name  # as smp does


def smp_weights(encoder: str, weights: str | None) -> str | bool | None:
    """`encoder_weights` as smp takes it: a `tu-` (timm) encoder names its weights in its own
    name, and smp asks True for them (a name such as imagenet drew a warning from smp 0.5
    on, though it was read as True); None (rebuilt, or random weights) stays None."""
    return True if weights and encoder.startswith("tu-") else weights


# What smp gives timm itself: a recorded architecture's arguments must not repeat them
_SMP_SETS = {"in_chans", "features_only", "output_stride", "pretrained", "out_indices"}


def encoder_source(encoder: str) -> dict | None:
    """For a timm encoder read from a folder or Hub repository (tu-local-dir:, tu-hf-hub:),
    the timm architecture and arguments its config.json names: a model file records them, so
    that prediction rebuilds the network without that folder, the Hub or its cache. None for
    other encoders."""
    kind, _, where = encoder.removeprefix("tu-").partition(":")
    if not encoder.startswith("tu-") or kind not in ("local-dir", "hf-hub"):
        return None
    from timm.models import _hub  # its public names moved between timm versions

    read = _hub.load_model_config_from_path if kind == "local-dir" else \
        _hub.load_model_config_from_hf
    got = read(where)  # (pretrained_cfg, architecture[, model_args]): timm < 1.0.10 had two
    args = dict(got[2]) if len(got) > 2 and got[2] else {}
    return {"architecture": got[1], "model_args": args}


def _built_as(config: UNetConfig, source: dict | None) -> tuple[str, dict]:
    """The encoder name and extra timm arguments smp builds: a model file's recorded timm
    architecture in place of the folder or Hub repository it was read from."""
    if not source:
        return config.encoder, {}
    args = {k: v for k, v in (source.get("model_args") or {}).items() if k not in _SMP_SETS}
    return "tu-" + source["architecture"], args


class EncoderUNet(nn.Module):
    """smp.Unet with a `model.encoder` (e.g. resnet34, or any timm `tu-` name)."""

    def __init__(self, config: UNetConfig, pretrained: bool = True,
                 source: dict | None = None) -> None:
        super().__init__()
        if not 3 <= config.depth <= 5:
            raise ModelError(f"model.depth {config.depth}: arch smp takes 3, 4 or 5")
        weights = smp_weights(config.encoder, config.encoder_weights if pretrained else None)
        # rebuilt for its weights from a model file's record: no folder, Hub or cache read
        name, extra = _built_as(config, None if pretrained else source)
        try:
            self.net = _unet(name, weights, config, extra)
        except Exception as err:  # a folder gone, the Hub or its cache out of reach, or a bug
            # the user's weights name (smp takes a tu- encoder's as True) for the messages
            problem = _unbuilt(name, config.encoder_weights if weights else None, err)
            if problem is None:
                raise
            raise ModelError(problem) from err
        # what a model file records to be rebuilt anywhere (read while the folder is here)
        self.source = source if name != config.encoder else _faithful(
            encoder_source(config.encoder), self.net, config)
        mean, std = normalisation(config, self.net) if pretrained else ([0.0] * config.in_channels,
                                                                [1.0] * config.in_channels)
        if pretrained:  # built for training (not rebuilt from a model file): say how
            _say_input(config, mean, std)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))  # saved with it
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))
        self.multiple = 2 ** config.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]  # (B, C, H, W) in [0, 1]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        x = F.pad((x - self.mean) / self.std, (0, pw, 0, ph), mode="replicate")
        return self.net(x)[..., :h, :w]  # (B, classes, H, W)


def _say_input(config: UNetConfig, mean: list[float], std: list[float]) -> None:
    """Log how the encoder's first convolution takes `config.in_channels` bands, and the mean
    and std the model normalises them with: smp adapts pretrained filters silently."""
    conv = {1: "RGB filters summed", 3: "as pretrained"}.get(
        config.in_channels, "band i gets RGB channel i % 3's filter, scaled by 3 / bands")
    log.info("encoder %s (%s weights), %d band(s): first convolution %s; input normalised "
             "with mean %s, std %s", config.encoder, config.encoder_weights or "random",
             config.in_channels, conv if config.encoder_weights else "new (random weights)",
             ", ".join(f"{v:.3f}" for v in mean), ", ".join(f"{v:.3f}" for v in std))


def _unet(name: str, weights: str | bool | None, config: UNetConfig, extra: dict) -> nn.Module:
    """smp's Unet of encoder `name` (timm's extra arguments `extra`) for `config`."""
    return _smp().Unet(name, encoder_weights=weights, in_channels=config.in_channels,
                       classes=config.num_classes, encoder_depth=config.depth,
                       decoder_channels=DECODER[5 - config.depth:], **extra)


def _faithful(source: dict | None, net: nn.Module, config: UNetConfig) -> dict | None:
    """`source` if the network it rebuilds has `net`'s weights (names and shapes), else None:
    smp picks some encoders' feature layers by words in the name it is given ('dla',
    'tresnet'), which a folder's path and its architecture need not share. Without the record
    a model file reads the folder or Hub repository, as training did."""
    if not source:
        return source
    name, extra = _built_as(config, source)
    try:
        with torch.device("meta"):  # shapes only: nothing allocated, no weights read
            rebuilt = _unet(name, None, config, extra).state_dict()
    except Exception:  # noqa: BLE001 (whatever smp or timm raise: the record cannot build it)
        rebuilt = {}
    if {k: v.shape for k, v in rebuilt.items()} == {k: v.shape for k, v in
                                                    net.state_dict().items()}:
        return source
    log.warning(
        "model.encoder %s: smp builds its timm architecture %s, named alone, with other "
        "feature layers (it picks them by words in the name, e.g. 'dla', 'tresnet', which the "
        "path given here and the architecture do not share), so model.pt cannot be rebuilt "
        "without it: prediction and fine-tuning read it, as training does. To have a model "
        "file that needs nothing else, give the folder or repository a name that shares "
        "those words with %s and retrain", config.encoder, source["architecture"],
        source["architecture"])
    return None


def _unbuilt(encoder: str, weights: str | bool | None, err: Exception) -> str | None:
    """Why smp could not build `encoder`, in words with the fix, or None (its own error)."""
    misread = _misleading_path(encoder, err)
    if misread:
        return misread
    if isinstance(err, FileNotFoundError) and encoder.startswith("tu-local-dir:"):
        return (f"model.encoder {encoder}: timm builds this encoder from its folder's "
                f"config.json, and cannot ({err}); put the folder the model was trained with "
                "back at that path (its config.json and weights). Model files trained from "
                "now on record what they need and predict without it")
    if not weights and encoder.startswith("tu-hf-hub:"):  # a file from before encoder_source
        return (f"model.encoder {encoder}: timm builds this encoder from the repository's "
                f"config.json, which is neither in the Hugging Face cache {hub_cache()} nor "
                f"reachable ({err}); this model file predates the record that spares it: "
                "predict with the network, or with HF_HOME set to a cache that holds the "
                "repository, or retrain")
    if weights and encoder.startswith("tu-local-dir:"):  # nothing fetched: the folder's file
        return _unreadable_folder(encoder, err)
    # weights not in this machine's cache: whatever the Hub raised (offline, a missing file
    # is huggingface_hub's LocalEntryNotFoundError, a FileNotFoundError)
    return _not_cached(encoder, weights, err) if weights else None


def _unreadable_folder(encoder: str, err: Exception) -> str:
    """A tu-local-dir: folder whose weights timm could not read (a copy cut short, none)."""
    folder = Path(encoder.partition(":")[2])
    read = weights_file(folder)  # none: a .pt copied again would still not be read
    fix = f"copy {read} there again" if read else no_weights_fix(folder)
    return (f"model.encoder {encoder}: timm could not read the pretrained weights in "
            f"{read or folder} ({err}); {fix}, or set model.encoder_weights: null to train "
            "from random weights")


# Words smp's timm encoder (0.5, 0.6) looks for in the name it is given to pick feature layers
_SMP_WORDS = ("tresnet", "dla")


def _misleading_path(encoder: str, err: Exception) -> str | None:
    """Why smp failed to build a timm folder or Hub encoder whose path has, or lacks, a word
    smp reads that its architecture lacks, or has; None otherwise."""
    kind, _, where = encoder.removeprefix("tu-").partition(":")
    if not encoder.startswith("tu-") or kind not in ("local-dir", "hf-hub"):
        return None
    try:
        arch = encoder_source(encoder)["architecture"]
    except Exception:  # noqa: BLE001 (no config.json to read: the build's own error stands)
        return None
    word = next((w for w in _SMP_WORDS if (w in arch) != (w in where)), None)
    if word is None:
        return None
    held = word in where
    return (f"model.encoder {encoder}: smp could not build timm's {arch} from it "
            f"({type(err).__name__}: {err}), as it picks the feature layers by the word "
            f"'{word}' in the name it is given, which {where} "
            + (f"holds and {arch} lacks: move the folder to a path without it"
               if held else f"lacks and {arch} holds: name the folder with it")
            + f" (e.g. .../{arch}; a Hub repository: download it into such a folder and give "
            "tu-local-dir:<folder>)")


def hub_cache() -> str:
    """The folder the Hugging Face Hub caches downloads in on this machine."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return os.environ.get("HF_HOME", "~/.cache/huggingface")
    return str(constants.HF_HUB_CACHE)


def _not_cached(encoder: str, weights: str, err: Exception) -> str:
    """Training could not load weights that fetch_encoder_weights should have cached."""
    # the marker as encoder_check.fetch_markers names it (not imported: prediction, which
    # imports this module, would rerun for edits of the config check)
    marker = f"resources/encoders/{quote(encoder, safe='')}/{weights}.json"
    return (
        f"could not load the {weights} weights of encoder {encoder} from the Hugging Face "
        f"cache {hub_cache()} on this machine ({err}). The fetch_encoder_weights step "
        f"downloads them where Snakemake runs and marks them in {marker}: train on a machine "
        "that sees the same cache (set HF_HOME to a folder both share), or, if the cache was "
        "emptied since, delete that file so that the step fetches them again"
    )


def fetch_encoder_weights(encoder: str, weights: str, marker: str | os.PathLike) -> None:
    """Download `encoder`'s pretrained `weights` into the Hugging Face cache, as building the
    model for training would, then write `marker` (JSON). The fetch_encoder_weights rule runs
    this where Snakemake runs, so training on a compute node without a network finds them."""
    try:
        _smp().Unet(encoder, encoder_weights=smp_weights(encoder, weights), classes=1)  # as trained
    except ModelError:
        raise
    except Exception as err:  # no network, an unknown name: whatever smp or the Hub raised
        offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")
        why = ("; but HF_HUB_OFFLINE=1 is set, which forbids the download: unset it for this "
               "step (compute nodes may keep it)" if offline else ", so it needs the network "
               "there")
        raise ModelError(
            f"could not fetch the {weights} weights of encoder {encoder} into the Hugging "
            f"Face cache {hub_cache()}: {str(err).rstrip('.')}. This step downloads them from "
            f"the Hub on the machine Snakemake runs on{why}; check model.encoder and "
            "model.encoder_weights. Without a network there, copy a Hugging Face cache that "
            "holds them (from a machine that ran this step) to that folder, or set HF_HOME to "
            "one; or give a folder of timm weights as model.encoder: tu-local-dir:<folder>; "
            "or set model.encoder_weights: null to train from random weights"
        ) from err
    write_json(marker, {"encoder": encoder, "weights": weights, "cache": hub_cache()})
