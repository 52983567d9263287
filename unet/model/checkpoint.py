"""Checkpoints: plain data only, atomic saves, and the model rebuilt from a checkpoint alone."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from unet.common.fileio import atomic_path
from unet.model.build import build_model
from unet.model.file_kinds import (  # CheckpointError's home for callers: this module
    CODE,
    MODEL_FORMAT,
    MODEL_KEYS,
    CheckpointError,
    damaged_part,
    foreign,
    foreign_pickle,
    held,
    newer_format,
    newer_torch,
    reason,
    runs_code,
    unreadable,
    unwrapped,
)
from unet.model.unet import UNetConfig

# What `torch.load(weights_only=True)` rebuilds without running code from the file
# Exact types: subclasses such as numpy.float64 (a float) or an IntEnum are refused there.
_LEAVES = {type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device,
           torch.Tensor, torch.nn.Parameter}
_MAPPINGS, _SEQUENCES = {dict, OrderedDict}, {list, tuple, set, torch.Size}


def config_hash(*parts: Any) -> str:
    """Stable hash of JSON-able settings: a resumed run must match it exactly."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _check_plain(value: Any, where: str) -> None:
    """Raise CheckpointError at the first value a weights_only load would refuse."""
    if type(value) in _MAPPINGS:
        for key, item in value.items():
            _check_plain(key, f"{where} key {key!r}")
            _check_plain(item, f"{where}[{key!r}]")
    elif type(value) in _SEQUENCES:
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif type(value) not in _LEAVES:
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise CheckpointError(
            f"{where} is a {kind}: a checkpoint holds only tensors, numbers, strings, lists, "
            "dicts and None (convert it, e.g. float(x) or x.tolist())"
        )


def save(path: str | os.PathLike, state: dict) -> None:
    """torch.save to a synced temporary file, then rename: a kill or power cut keeps the old.

    Refuses values that `load` would refuse, so a bad checkpoint is never written.
    """
    try:
        _check_plain(state, "checkpoint")
    except CheckpointError as err:
        raise CheckpointError(f"not saving {path}: {err}") from None
    with atomic_path(path, durable=True) as tmp, open(tmp, "wb") as f:
        out = _NotingWriter(f)
        try:
            torch.save(state, out)
        except RuntimeError:
            if out.error is None:
                raise
            raise out.error from None  # a full disk: atomic_path names the file


class _NotingWriter:
    """A file's write that keeps the OSError it raised: torch.save turns a full disk into
    "RuntimeError: [enforce fail at inline_container.cc] unexpected pos ...", no file named."""

    def __init__(self, f) -> None:
        self.f, self.error = f, None

    def write(self, data) -> int:
        try:
            return self.f.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        self.f.flush()


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by `save`; anything that is not plain data is refused."""
    path = Path(path)
    damaged = damaged_part(path)
    if damaged:
        raise CheckpointError(f"{path} is damaged: its part {damaged} fails its checksum (a bad "
                              "copy or disk). Copy it again, or delete it and retrain")
    try:
        # weights_only: a pickle can name any function to call while it loads (model files
        # are shared and downloaded); this unpickler rebuilds tensors and containers only.
        with warnings.catch_warnings():  # torch's "dispatching to torch.jit.load": it does not
            warnings.filterwarnings("ignore", "'torch.load' received a zip file that looks like")
            warnings.filterwarnings("ignore", "Detected pickle protocol")  # pickle.dump's file
            return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        if not CODE.search(str(err)):
            raise foreign_pickle(path) or foreign(path) or unreadable(path, reason(err)) from None
        raise runs_code(path, reason(err)) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    # What torch raises on an empty, cut-off or foreign file: EOFError, RuntimeError (a zip
    # without its directory), even KeyError or IndexError (a text file read as a legacy
    # pickle: "a", "e" are its APPEND opcodes) and struct.error (a "G" and 8 bytes).
    except (EOFError, RuntimeError, KeyError, IndexError, ValueError, OSError, AttributeError,
            struct.error) as err:
        why = f"{type(err).__name__}: {err}".strip(": ")
        raise newer_torch(path, err) or foreign(path) or unreadable(path, why) from None




def load_model_file(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """`load` a model file (model.pt, checkpoints/best.pt), refusing other torch files by what
    they hold: a bare state dict (as other projects save) lacks the network settings and mask
    values that prediction needs."""
    ckpt = load(path, device)
    if isinstance(ckpt, dict) and all(k in ckpt for k in MODEL_KEYS):
        newer = newer_format(path, ckpt)
        if newer:
            raise newer
        return ckpt
    raise CheckpointError(
        f"{path} is not a unet-pipeline model file: it holds {held(ckpt)}. A model file "
        "records the network, the mask values and the input layout beside the weights: use a "
        "model.pt this pipeline trained (results/<dataset>/<experiment>/model.pt)"
    )


# What a model file records about the data it learnt: the label mapping and the input layout.
# Prediction rebuilds the mapping from these, and the models of an ensemble must agree on them.
DATA_KEYS = (
    "class_values", "size", "in_channels", "num_classes",
    "mask_rgb", "mask_tolerance",  # tolerance: values near a class's read as it; 0: not written
    "mask_threshold", "mask_separate",  # separate: trained on parted objects; else not written
    "ignore_value",
    "mask_palette",  # palette masks: the colour table written masks carry (older files: none)
    "mask_alpha",  # palette masks: their transparency, carried alike (older files: none)
    "mask_bits",  # grey masks' bit depth, 8 or 16, which written masks keep (older files: none)
    "mode",  # resize | native (older files: resize)
    "scale",  # native: the cache's resize factor
    "class_names",  # a name per class, or None (older files: none)
    "class_groups",  # each class's values where a class has several, or None (older: none)
    "skip_unlisted",  # values no class lists read as ignored (older files: refused)
    "background",  # class 0 is background, left out of the foreground scores (older: true)
    "roi",  # trained within regions of interest: nothing learnt outside them (older: none)
    "intensity_range",  # wide images' one (lo, hi), or None: each by its own (older: none)
    "intensity",  # dataset (with no range: learnt 8-bit images only) | image (older: none)
    "bands",  # true: 3 channels that are bands, not RGB (common.channels); else not written
    "intensity_units",  # dicom: DICOM read in modality units (cache.intensity); else not written
    "intensity_bands",  # each: intensity_range per band (common.band_ranges); else not written
)
SET_ONLY = ("bands", "intensity_units", "intensity_bands", "mask_tolerance", "mask_separate")


def model_record(
    model_config: dict,
    state_dict: dict,
    meta: dict,
    settings: dict,
    epoch: int,
    fold: int | None,
    val_dice: list[float],
    settings_hash: str,
    encoder_source: dict | None = None,
    trained_classes: list[int] | None = None,
) -> dict:
    """A model file's contents: the weights, how to rebuild the network, the data's label
    mapping (from the cache's meta.json) and how and how well it was trained; the classes
    with a training pixel (`trained_classes`, None: unknown), the only ones it predicts;
    `encoder_source`: a timm folder or Hub encoder's architecture (pretrained.encoder_source)."""
    data = {k: meta.get(k) for k in DATA_KEYS if k not in SET_ONLY or meta.get(k)}
    data["mask_rgb"] = bool(data["mask_rgb"])
    return {
        "format": MODEL_FORMAT,  # older versions refuse a file of a later format
        "model_config": model_config,
        "state_dict": state_dict,
        **data,
        "train_settings": settings,
        "epoch": epoch,
        "fold": fold,
        # its run's fold count and fold ids' digest: `unet predict` takes one run's (model.folds)
        "folds": None if fold is None else len(meta.get("folds") or []),
        "folds_digest": None if fold is None else config_hash(meta.get("folds") or []),
        "val_dice": val_dice,
        "config_hash": settings_hash,
        # arch smp, tu-local-dir:/tu-hf-hub: encoders: what rebuilds the network without that
        # folder or the Hub (older files: none, and prediction reads them as training did)
        "encoder_source": encoder_source,
        # Not a DATA_KEYS entry: each fold of an ensemble trains on its own rows
        "trained_classes": trained_classes,
    }


def trained_patch(record: dict) -> tuple[int, int] | None:
    """(width, height) of the patches a model file's network was trained on (train.patch.size):
    it predicts with sliding windows of that size. None: trained on whole images."""
    size = (record.get("train_settings") or {}).get("patch", {}).get("size")
    return tuple(size) if size else None


def trained_flip(record: dict) -> bool | str:
    """train.augment.flip of a model file's training: True (both axes), False, horizontal or
    vertical; True for files without training settings."""
    return (record.get("train_settings") or {}).get("augment", {}).get("flip", True)


def check_same_data(records: list[dict], paths: list[str | os.PathLike]) -> None:
    """Refuse an ensemble whose models were trained on different data layouts."""
    for path, record in zip(paths[1:], records[1:], strict=True):
        differs = [k for k in DATA_KEYS if record.get(k) != records[0].get(k)]
        if differs:
            raise ValueError(
                f"{path} was trained on other data than {paths[0]} ({', '.join(differs)} "
                "differ); an ensemble needs models of one cache: retrain the stale ones"
            )


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict]:
    """Rebuild the trained network from `model.pt` alone (no download); returns (model in eval
    mode, checkpoint dict)."""
    ckpt = load_model_file(path, device)
    config, source = network_config(path, ckpt), ckpt.get("encoder_source")
    model = build_model(config, pretrained=False, source=source)
    # as saved, then without a wrapper's prefixes (torch.compile, DataParallel), before the
    # record is judged: a compiled network's record was dropped, its folder then needed
    stored = (ckpt["state_dict"], unwrapped(ckpt["state_dict"]))
    fits = next((s for s in stored if not _mismatch(model.state_dict(), s)), None)
    if fits is None and source:  # a record of another network (written unchecked): the folder's
        model, ckpt["encoder_source"] = build_model(config, pretrained=False), None
        fits = next((s for s in stored if not _mismatch(model.state_dict(), s)), None)
    if fits is None:
        cfg, differs = ckpt["model_config"], _mismatch(model.state_dict(), stored[0])
        raise _unfit(path, f"the network of model_config depth {cfg.get('depth')}, base_width "
                           f"{cfg.get('base_width')}, arch {cfg.get('arch', 'unet')}: {differs}")
    ckpt["state_dict"] = fits
    model.load_state_dict(fits)
    return model.to(device).eval(), ckpt


def _unfit(path: str | os.PathLike, what: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: its settings do not fit its weights ({what}): it was edited, or written by "
        "another version of unet-pipeline; use the model.pt as training wrote it, or retrain"
    )


def _mismatch(network: dict, stored: dict) -> str:
    """How a file's weights differ from the network its settings build, in words; '' if not."""
    missing = [k for k in network if k not in stored]
    extra = [k for k in stored if k not in network]
    shapes = [k for k in network if k in stored and stored[k].shape != network[k].shape]
    parts = [f"{len(missing)} weights missing, e.g. {missing[0]}" if missing else "",
             f"{len(extra)} weights the network lacks, e.g. {extra[0]}" if extra else "",
             f"{len(shapes)} weights of another shape, e.g. {shapes[0]} "
             f"{list(stored[shapes[0]].shape)} where the network has "
             f"{list(network[shapes[0]].shape)}" if shapes else ""]
    return "; ".join(p for p in parts if p)


def network_config(path: str | os.PathLike, ckpt: dict) -> UNetConfig:
    """The network settings of a model file, checked against the file's own data layout; keys
    an older file lacks (arch, encoder: before arch smp) take their defaults."""
    try:
        config = UNetConfig(**ckpt["model_config"])
    except TypeError as err:
        known = ", ".join(UNetConfig.__dataclass_fields__)
        unknown = [k for k in ckpt["model_config"] if k not in UNetConfig.__dataclass_fields__]
        what = (f"model_config key {unknown[0]!r} is not a network setting ({known})"
                if unknown else f"model_config: {err}")
        raise _unfit(path, what) from None
    for key in ("in_channels", "num_classes"):
        if ckpt[key] != getattr(config, key):
            raise _unfit(path, f"{key} {ckpt[key]} beside model_config {key} "
                               f"{getattr(config, key)}")
    return config
