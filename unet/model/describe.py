"""`unet info`: what a model file holds, in words a user can check before predicting."""

from __future__ import annotations

import os

from unet.common.band_ranges import in_words, per_band, scale_of
from unet.common.channels import channels_are_bands
from unet.common.dicom import DICOM_UNITS, FROM_FILES
from unet.common.labels import MaskMapping, mapping_from_meta, own_name
from unet.model import checkpoint, trained_precision
from unet.model.trained import untrained_classes


def _input_layout(ckpt: dict) -> str:
    """How images reach the network: resized to one size, or native size (and scale), and
    whether it predicts whole images or sliding-window tiles."""
    patch = checkpoint.trained_patch(ckpt)
    tiles = f"; sliding-window tiles of {patch[0]}x{patch[1]}" if patch else ""
    if ckpt.get("mode") == "native":
        return f"images at their own size x {ckpt.get('scale') or 1.0}{tiles}"
    w, h = ckpt["size"]
    return f"images resized to {w}x{h} (w x h){tiles}"


def _bands(ckpt: dict) -> str:
    """How new images must come when the model reads other than grey or colour."""
    if not channels_are_bands(ckpt):
        return ""
    three = "bands, not red, green and blue: " if ckpt["in_channels"] == 3 else ""
    return (f"{three}one multi-band TIFF an image (unet stack makes them from a file per band, "
            "or per image of a pair), or an ImageJ/OME hyperstack of its channels; ")


def _network(cfg: dict, init_from: str | None = None, new_head: bool = False,
             sha: str | None = None) -> str:
    """The architecture in one phrase: this project's UNet, or smp's Unet with its encoder,
    and where its weights began (fine-tuned, `init_from`: the source model's, whatever
    encoder_weights says; `new_head`, train.reinit_head: all but the output layer; `sha`: the
    source file's sha256, which tells its contents once the path holds another)."""
    source = (f"from train.init_from {init_from}" + (f" sha256 {sha[:12]}" if sha else "")
              + (" but a new output layer" if new_head else "")) if init_from else ""
    if cfg.get("arch") == "smp":  # older model files have no arch: this project's UNet
        weights = (source if init_from
                   else cfg.get("encoder_weights") or "none, randomly initialised")
        return f"smp Unet, encoder {cfg['encoder']} (weights {weights}), depth {cfg['depth']}"
    began = f" (weights {source})" if init_from else ""
    return (
        f"UNet depth {cfg['depth']}, base width {cfg['base_width']}, "
        f"{'bilinear' if cfg['bilinear'] else 'transposed-conv'} upsampling, norm "
        f"{cfg['norm']}, dropout {cfg['dropout']}{began}"
    )


def _spans(classes: list[int]) -> str:
    """'0-12, 14-17, 19' from ascending class indices."""
    runs: list[list[int]] = []
    for c in classes:
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def _val_dice(dice: list[float]) -> str:
    """'0: 0.9000, 2: 0.5000; 1 absent (no score): 1', each score named by its class index (a
    row of 150 unnamed scores could not be read back to ADE20K's classes). NaN: a class that
    neither the validation images nor the predictions held."""
    held = ", ".join(f"{c}: {d:.4f}" for c, d in enumerate(dice) if d == d)
    absent = [c for c, d in enumerate(dice) if d != d]
    if not absent:
        return held
    return f"{held}{'; ' if held else ''}{len(absent)} absent (no score): {_spans(absent)}"


def _intensity(ckpt: dict) -> str:
    """How wider than 8-bit images (16-bit, float: CT in Hounsfield units) reach the network,
    and in which units where they were DICOM files (a range in modality units, not stored)."""
    span = scale_of(ckpt)
    dicom = ckpt.get("intensity_units") == FROM_FILES
    units = f" in DICOM modality units ({DICOM_UNITS})" if dicom else ""
    if per_band(span):  # preprocess.intensity_bands: each
        return f"16-bit and float images scaled to 0..255 per band{units}: {in_words(span)}"
    if span:  # the window set (preprocess.intensity_window) or the training images' range
        return (f"16-bit and float images clipped to [{span[0]:g}, {span[1]:g}]{units}, "
                "scaled to 0..255")
    learnt = "learnt 8-bit images; " if ckpt.get("intensity") == "dataset" else ""
    return f"{learnt}16-bit and float images each scaled by its own range" + (
        f"; DICOM read in modality units ({DICOM_UNITS})" if dicom else "")


def _normalise(ckpt: dict) -> str:
    """What the network's input is, as an ONNX export's user must make it: an 8-bit image's
    values / 255 in its channel order, and an smp encoder's own statistics inside the model."""
    order = ("bands in the file's order" if channels_are_bands(ckpt) else
             {1: "grey (colour as PIL's convert('L'))"}.get(ckpt["in_channels"],
                                                           "RGB (reverse OpenCV's BGR)"))
    said = f"input {order}, an 8-bit image's values / 255, in [0, 1]"
    if ckpt["model_config"].get("arch") != "smp":
        return said + "; nothing else (no mean or std)"
    mean, std = (ckpt["state_dict"][k].flatten().tolist() for k in ("mean", "std"))
    return (f"{said}; then (x - mean) / std inside the model: mean "
            f"{', '.join(f'{v:.3f}' for v in mean)}, std {', '.join(f'{v:.3f}' for v in std)}")


def _precision(ckpt: dict, settings: dict) -> str:
    """The weights' dtype, what unet predict computes in by device, and the training's
    precision as recorded, else as its settings allow (an older file): masks of bf16
    autocast differ from float32's where classes nearly tie."""
    words = trained_precision
    said = words.in_words(ckpt) or (settings and words.from_settings(settings))
    trained = f"; {said}" if said else ""
    return ("float32 weights; unet predict computes in float32 on the CPU (as an ONNX export "
            "does) and in bf16 autocast on CUDA (fp16 before compute capability 8.0; --no-amp: "
            f"float32){trained}")


def class_list(mapping: MaskMapping, names: list) -> str:
    """'3: 0 = 0 (background), 1 = 255 (road), ...': each class, its value and its name."""
    return f"{mapping.num_classes}: " + ", ".join(
        f"{i} = {label}" + (f" ({own})" if (own := own_name(n, i, label)) else "")
        for i, (label, n) in enumerate(zip(mapping.labels(), names, strict=True)))


def _scores(ckpt: dict) -> list[str]:
    """The kept epoch's validation Dice per class, and a fine-tuned model's source's on the
    same validation images before the first step (history.csv's epoch 0)."""
    fold = "" if ckpt.get("fold") is None else f", cross-validation fold {ckpt['fold']}"
    dice = _val_dice(ckpt.get("val_dice", []))
    lines = [f"kept       epoch {ckpt.get('epoch')}{fold}; validation Dice per class {dice}"]
    if ckpt.get("source_val_dice"):
        lines.append("source     validation Dice per class "
                     f"{_val_dice(ckpt['source_val_dice'])} before the first step (epoch 0)")
    return lines


def describe_model(path: str | os.PathLike) -> str:
    """Architecture, classes and their mask values, the training data's layout, the training
    settings, and the validation scores of the kept epoch."""
    net, ckpt = checkpoint.load_model(path)  # refuses settings that do not fit the weights
    mapping = mapping_from_meta(ckpt)
    cfg, settings = ckpt["model_config"], ckpt.get("train_settings") or {}
    names = ckpt.get("class_names") or [None] * mapping.num_classes
    params = sum(p.numel() for p in net.parameters())  # buffers are statistics, not learnt
    stats = sum(b.numel() for b in net.buffers() if b.is_floating_point())
    kinds = "running statistics" + (", input mean/std" if cfg.get("arch") == "smp" else "")
    held = f" (and {stats:,} buffer values: {kinds})" if stats else ""
    source = settings.get("init_from")
    if source and ckpt.get("fold") is not None:  # {fold}: this fold's file, which the sha names
        source = source.replace("{fold}", str(ckpt["fold"]))
    network = _network(cfg, source, settings.get("reinit_head"), ckpt.get("init_sha256"))
    lines = [
        f"model      {path}",
        f"network    {network}; {params:,} parameters{held}",
        f"input      {ckpt['in_channels']} channel(s), {_bands(ckpt)}{_input_layout(ckpt)}",
        f"intensity  {_intensity(ckpt)}",
        f"classes    {class_list(mapping, names)}",
    ]
    if len(mapping.groups()) != len(mapping.value_classes()):
        lines.append("written    a class of several values is written as its first")
    lines.append(f"normalise  {_normalise(ckpt)}")
    lines.append(f"precision  {_precision(ckpt, settings)}")
    if mapping.threshold is not None:
        each = " in each colour channel" if mapping.rgb else ""
        lines.append(f"threshold  masks binarised above {mapping.threshold}{each}")
    if mapping.tolerance:  # masks.tolerance: how its training masks were read
        lines.append(f"tolerance  mask values within masks.tolerance {mapping.tolerance} of a "
                     "class's (in every channel) read as that class")
    if ckpt.get("mask_separate"):  # its masks' components are objects; its val Dice is parted
        lines.append("separate   trained on touching objects parted by a 1-px background line "
                     "(masks.separate), to leave it: a written mask's connected components are "
                     "meant to be the objects; the validation Dice below is on parted targets")
    if mapping.ignore is not None:
        shown = mapping.describe([mapping.ignore])[1:-1]
        lines.append(f"ignore     mask value {shown} is skipped by the loss and metrics")
    if not mapping.background:
        lines.append("background none: class 0 is scored like every class (masks.background)")
    if mapping.skip_unlisted:
        lines.append("unlisted   mask values no class lists are skipped by the loss and metrics")
    if ckpt.get("roi"):
        lines.append("roi        learnt within regions of interest only: predict with --roi")
    untrained = untrained_classes(ckpt)
    if untrained:
        lines.append(f"untrained  class(es) {_spans(untrained)}: no training pixel, never "
                     "predicted (probability 0)")
    lines.extend(_scores(ckpt))
    if settings:
        keys = ("epochs", "batch_size", "optimizer", "lr", "schedule", "seed", "augment")
        lines.append("training   " + ", ".join(f"{k} {settings.get(k)}" for k in keys))
    if settings.get("ema"):
        lines.append(f"weights    moving average of the training weights (decay {settings['ema']})")
    return "\n".join(lines)
