"""ONNX export of a trained model: any input height and width, the label mapping as metadata."""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from unet.common.band_ranges import EACH, in_words, per_band, scale_of
from unet.common.channels import channels_are_bands
from unet.common.dicom import DICOM_UNITS, FROM_FILES
from unet.common.fileio import atomic_path, check_writable, drop_scratch
from unet.model import checkpoint, trained_precision
from unet.model.checkpoint import DATA_KEYS
from unet.model.trained import note_untrained, trained_only
from unet.model.unet import UNet

log = logging.getLogger(__name__)


class _PaddedUp(torch.nn.Module):
    """A UNet `Up` block whose pad of the upsampled map to its skip's size is in the graph at
    every size: the block pads only where they differ (an odd size at that level), a test the
    tracer settles for its example's size alone."""

    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.block.up(x)  # (B, cin/2, 2h, 2w)
        dh, dw = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]  # 0 or 1 each
        x = F.pad(x, [dw // 2, dw - dw // 2, dh // 2, dh - dh // 2])
        return self.block.conv(torch.cat([skip, x], dim=1))


class PaddedUNet(torch.nn.Module):
    """The network as one graph for any (B, C, H, W): its logits, as the module gives them
    (and `unet predict` runs it), at every size of at least `multiple` (2**depth) a side.

    A smaller side, which the network's poolings cannot take, is padded up to `multiple`
    (replicating the bottom or right edge) and the logits cropped back.
    """

    def __init__(self, net: torch.nn.Module, multiple: int) -> None:
        super().__init__()
        self.net, self.multiple = net, multiple
        for unet in [m for m in net.modules() if isinstance(m, UNet)]:  # smp pads itself
            unet.ups = torch.nn.ModuleList(
                up if isinstance(up, _PaddedUp) else _PaddedUp(up) for up in unet.ups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = torch.sym_max(0, self.multiple - h), torch.sym_max(0, self.multiple - w)
        logits = self.net(F.pad(x, (0, pw, 0, ph), mode="replicate"))
        return logits[..., :h, :w]  # (B, classes, H, W)


class FoldsEnsemble(torch.nn.Module):
    """Cross-validation folds' networks as one graph. Outputs `logits` (B, classes, H, W), the
    log of the folds' averaged probabilities (its softmax is that average, its argmax the
    ensemble's mask, as `unet predict` averages them), and `fold_logits` (B, folds, classes,
    H, W), each fold's own: what to resize before averaging, for a resized model."""

    def __init__(self, nets: list[torch.nn.Module], multiple: int) -> None:
        super().__init__()
        self.nets = torch.nn.ModuleList(PaddedUNet(net, multiple) for net in nets)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        each = torch.stack([net(x) for net in self.nets], 1)
        mean = torch.logsumexp(torch.log_softmax(each, 2), 1) - math.log(len(self.nets))
        return mean, each


def input_note(ckpt: dict) -> dict:
    """How an image becomes the graph's input, as `unet predict` makes it, in words for the
    file's metadata (`input`): its user may have the file alone, and BGR or 0-255 input gives
    other masks without an error."""
    c, span = ckpt["in_channels"], scale_of(ckpt)
    channels = {
        1: "grey; a colour image as PIL's convert('L') makes it: 0.299 R + 0.587 G + 0.114 B",
        3: "RGB, as PIL reads colour (reverse OpenCV's BGR); a grey image repeated into all "
           "three, an alpha channel dropped",
    }.get(0 if channels_are_bands(ckpt) else c,  # 3 bands of a hyperstack are no RGB
          f"{c} bands, in the order of the multi-band TIFF's samples (unet stack: the "
          "image's own band, then dataset.local.band_files in order; an ImageJ/OME "
          "hyperstack's channels in their order); alpha dropped")
    wide = (f"{in_words(span)}, as (v - lo) / (hi - lo)" if span == EACH else
            f"clipped per band, {in_words(span)}, and mapped to (v - lo) / (hi - lo) by the "
            "band's own lo and hi" if per_band(span) else
            f"clipped to intensity_range [{span[0]}, {span[1]}] and mapped to (v - lo) / "
            "(hi - lo)" if span else "each image by its own range, min(0, lowest) to "
            "max(1, highest), as (v - lo) / (hi - lo)")
    # unet predict reads the fill outside a scene as missing, not as a value: a 65535 fill
    # clipped as a value would enter as 1.0 and change the masks around it
    wide += (", its GeoTIFF nodata value (GDAL_NODATA tag) and NaN read as lo (input 0) and "
             "left out of any range")
    if ckpt.get("intensity_units") == FROM_FILES:  # trained on DICOM: the range is not stored
        wide += f"; a DICOM image's values in modality units first: {DICOM_UNITS}"
    note = {"layout": f"image (B, {c}, H, W) float32", "channels": channels,
            "values": f"in [0, 1]: an 8-bit image's values / 255; a wider one (16-bit, float) "
                      f"{wide}, rounded to the nearest 1/255 step as the 8-bit training cache "
                      "holds it: numpy.round(x * 255) / 255 (a half to the even step)",
            "size": _size_note(ckpt)}
    if patch := checkpoint.trained_patch(ckpt):
        note["window"] = _window_note(patch, 2 ** ckpt["model_config"]["depth"])
    return note


def _window_note(patch: tuple[int, int], align: int) -> str:
    """How unet predict slides a patch-trained model's window (unet/infer/tiles.py), in words:
    the file alone gave its `patch`, and other steps or weights give other masks silently."""
    from unet.common.schema import defaults
    from unet.infer.tiles import tile_starts

    overlap = defaults("predict")["overlap"]
    step = [tile_starts(2 * n + 1, n, overlap, align)[1] for n in patch]
    return (f"masks by a sliding window: tiles of the patch, {patch[0]}x{patch[1]}, each side's "
            f"starts every int(tile x (1 - overlap)) px rounded down to a multiple of {align} "
            f"(at least {align}; unet predict's --overlap, default {overlap:g}: every "
            f"{step[0]}x{step[1]} px), and a last tile ending at the image's edge; a side "
            "shorter than the tile padded with zero input at its bottom or right; each tile's "
            "logits times a Gaussian of sigma tile side / 8 per axis, centred at (side - 1) / 2 "
            "(scaled to peak 1, its smallest value floored at "
            "its smallest above 0), summed, divided by the summed weights, cropped to the "
            "image, then the softmax rounded to float16 and the argmax")


def _size_note(ckpt: dict) -> str:
    """At what size an image enters (metadata `size` or `scale`), in words: a slide model
    cached at scale 0.25 given full-resolution pixels sees cells 4x the size it learnt."""
    mode, scale = ckpt.get("mode") or "resize", ckpt.get("scale") or 1.0
    # the order and the 8-bit planes matter: a 16-bit image resized before its values are
    # scaled, or its scaled floats resized, changed 4 of 41,526 pixels of ten images' masks
    turned = "each image turned by its EXIF orientation (PIL's ImageOps.exif_transpose), then"
    # every mask is the float16 softmax's argmax (infer/writer.py), unresized ones too
    argmax = "the softmax rounded to float16 and the argmax (the first class of equal ones)"
    if mode == "native" and scale == 1.0:
        return f"{turned} at its own size; {argmax}"
    to = (f"each side times {scale:g} (rounded, at least 1 px)" if mode == "native"
          else "{}x{}".format(*ckpt["size"]) if ckpt.get("size") else "the metadata's size")
    return (f"{turned}, once its values are in the 1/255 steps of `values`, resized to {to}, "
            "each channel as an 8-bit plane (x * 255) as PIL's resize(..., BILINEAR, "
            "reducing_gap=2.0) gives it in mode 'L' (an RGB image's channels alike) (a JPEG "
            "decoded at the smallest DCT scale, a whole-slide pyramid at its smallest level, at "
            "least that size); the logits resized back to the image's own size (bilinear, "
            f"align_corners=False), then {argmax}")


def _check_exporter() -> None:
    """Refuse, before the model is loaded, an install without the [onnx] extra: torch's
    exporter imports onnxscript (and onnx) only when it runs, and failed with a traceback."""
    missing = [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        raise ValueError(f"ONNX export needs {' and '.join(missing)}, which this Python lacks: "
                           "pip install -e '.[onnx]' (or pip install onnx onnxscript)")


def _check_not_folder_name(name: str) -> None:
    """Refuse a name ending in a separator: Path() drops it, so 'm.onnx/' passed as a file and
    the rename onto it failed after the whole export, and 'exports/' was advised 'exports.onnx'."""
    if name.endswith(("/", os.sep)):
        stem = name.rstrip("/" + os.sep)
        fix = stem if stem.lower().endswith(".onnx") else f"{name}model.onnx"
        raise FileExistsError(f"--onnx {name} ends in a separator, a folder's name; name the "
                              f".onnx file to write, e.g. {fix}")


def _check_target(out: Path) -> None:
    """Only a .onnx name, and never over a torch file (zip or pickle) under that name."""
    if out.suffix.lower() != ".onnx":
        raise FileExistsError(
            f"--onnx {out}: name a .onnx file to write, e.g. {out.with_suffix('.onnx')} (a "
            "model file or any other name is never written over)"
        )
    check_writable(out, "--onnx")  # before the model is loaded and traced
    if out.is_file():
        with open(out, "rb") as f:
            head = f.read(2)
        if head == b"PK" or head[:1] == b"\x80":  # torch.save's zip, or a legacy pickle
            raise FileExistsError(
                f"{out} is a torch file (a model or checkpoint), not an ONNX graph: writing "
                "there would replace it; name another .onnx file"
            )


@contextmanager
def _exporter_notes_quiet() -> Iterator[None]:
    """The exporter's own loggers at WARNING while it runs: at INFO, onnxscript's optimiser
    and onnx_ir's passes printed some 25 lines of their internals ("Removed 178 unused
    nodes") around the command's one line. Their warnings and errors still show."""
    loggers = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")]
    levels = [one.level for one in loggers]
    for one in loggers:
        one.setLevel(max(one.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for one, level in zip(loggers, levels, strict=True):
            one.setLevel(level)


DESCRIPTION = ("unet-pipeline segmentation model. Input `image` (B, C, H, W) float32 in [0, 1] "
               "(metadata `input`: channel order, value scale); output `logits` (B, classes, H, "
               "W): class i is the mask value class_values[i] of the metadata.")


def _metadata(ckpt: dict, records: list[dict]) -> dict:
    """The file's metadata: the data's mapping and layout, the network, how input is made."""
    meta = {k: ckpt.get(k) for k in DATA_KEYS if k not in checkpoint.SET_ONLY or ckpt.get(k)}
    meta["model_config"] = ckpt["model_config"]
    # A patch-trained model's masks come from a sliding window of tiles of this (w, h)
    patch = checkpoint.trained_patch(ckpt)
    meta["patch"] = list(patch) if patch else None
    if len(records) > 1:
        meta["folds"] = len(records)
    meta["input"] = input_note(ckpt)
    meta["trained_precision"] = _trained_note(records)
    return meta


def _trained_note(records: list[dict]) -> str:
    """The precision the training computed in, in one line (the graph computes in float32);
    each fold's where folds differ; an older file's as its settings allow, marked unknown."""
    said = [trained_precision.in_words(r) or "unknown (a model file older than its record): "
            + trained_precision.from_settings(r.get("train_settings") or {}) for r in records]
    if len(set(said)) == 1:
        return said[0]
    return "; ".join(f"fold {r.get('fold')}: {s}" for r, s in zip(records, said, strict=True))


def export_onnx(model_path: str | os.PathLike | list, out_path: str | os.PathLike) -> dict:
    """Write `out_path` (ONNX, dynamic batch, height and width); returns its metadata.

    Input `image`: (B, C, H, W) float32 in [0, 1], resized like the training data (to the
    model's `size`, which the metadata gives) for the masks `unet predict` writes. Output
    `logits`: (B, classes, H, W); class i is the data's value `class_values[i]`. A
    patch-trained model's `patch` (w, h) is the tile of the window `unet predict` slides.
    A list of cross-validation folds' models gives one graph of them all (FoldsEnsemble), its
    metadata's `folds` their number.
    """
    paths = [Path(p) for p in (model_path if isinstance(model_path, list) else [model_path])]
    _check_not_folder_name(os.fspath(out_path))
    out = Path(out_path)
    if out.is_dir():
        raise FileExistsError(
            f"{out} is a folder; name the .onnx file to write, e.g. {out / 'model.onnx'}"
        )
    if out.exists() and any(os.path.samefile(out, p) for p in paths):
        raise FileExistsError(
            f"{out} is the model to export: writing the ONNX graph there would replace its "
            "weights; name another file, e.g. model.onnx"
        )
    _check_target(out)
    _check_exporter()
    loaded = [checkpoint.load_model(p) for p in paths]
    ckpt = loaded[0][1]
    checkpoint.check_same_data([c for _, c in loaded], paths)
    note_untrained([c for _, c in loaded], paths)
    multiple = 2 ** ckpt["model_config"]["depth"]
    nets = [trained_only(net, c) for net, c in loaded]  # untrained classes: as unet predict
    wrapped = (PaddedUNet(nets[0], multiple) if len(nets) == 1
               else FoldsEnsemble(nets, multiple)).eval()
    w, h = ckpt["size"] or [256, 256]  # native-size models take any size: trace one
    # Traced at a multiple (the graph serves any size): at 50x30, torch.export failed to
    # relate the padded sizes to the input's; each level's pad is in the graph all the same
    h, w = h + (-h) % multiple, w + (-w) % multiple
    example = torch.rand(1, ckpt["in_channels"], h, w)
    dims = {0: torch.export.Dim("batch"), 2: torch.export.Dim("height"),
            3: torch.export.Dim("width")}
    outputs = ["logits"] if len(nets) == 1 else ["logits", "fold_logits"]
    drop_scratch(out_path)  # what a killed export left: up to the model's size, kept for good
    with atomic_path(out_path) as tmp, warnings.catch_warnings(), _exporter_notes_quiet():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        program = torch.onnx.export(
            wrapped, (example,), dynamic_shapes={"x": dims}, input_names=["image"],
            output_names=outputs, dynamo=True, external_data=False, verbose=False,
        )
        meta = _metadata(ckpt, [c for _, c in loaded])
        # What a user of the file needs to read its output: class i is class_values[i].
        program.model.metadata_props.update({k: json.dumps(v) for k, v in meta.items()})
        program.model.doc_string = DESCRIPTION
        program.save(str(tmp))
    log.info("exported %s to %s", ", ".join(map(str, paths)), out)
    return meta
