"""Keys of a config section that do not apply in its current mode (preprocess.width under
native, train.momentum under adamw, ...): their value cannot change an output, so the rules do
not get them as params (changing one reruns nothing) and training's resume hash skips them.
A module of its own: training imports it (unet.train.resume), so only it joins training's code."""

from __future__ import annotations

import copy
from types import SimpleNamespace


def _train_speed(s: dict) -> tuple[str, ...]:
    """train.num_workers: each sample draws its crop and augmentations from a seed of its own
    (tests/test_repro.py). deterministic on the CPU, but for false: auto already turns the
    deterministic algorithms on there, and true adds only NaN-filled new memory, which no op
    here reads (common.device.set_deterministic): a slower step, the same weights."""
    on_cpu = s.get("device") == "cpu" and s.get("deterministic", "auto") is not False
    return ("num_workers", "deterministic") if on_cpu else ("num_workers",)


# Keys that decide how fast a step runs, never what it writes, in a section's setting: a rule
# gets them through untracked(), not with the section, so that changing one reruns nothing.
# Keys that look like speed but change bytes stay tracked (measured on the CPU, tiny synthetic
# data): predict.batch_size (oneDNN rounds a batch apart from one image: float16 probabilities
# move by their last place), train.channels_last and train.compile (other kernels, other
# weights), crf.tile and crf.tile_overlap (a tiled image's labels differ at the seams).
SPEED = {"train": _train_speed}


def _preprocess_unused(s: dict) -> list[str]:
    """resize: every image to width x height; native: each at its size x scale (a scale
    other than 1 under resize is refused: check_config). intensity_top: unused under
    intensity image, and left out at 100, so caches made before the key existed stay fresh.
    intensity_window: left out when null (older caches stay fresh); set, it replaces both.
    intensity_bands: left out at joint (older caches stay fresh) and under a window (one for
    every band)."""
    unused = ["width", "height"] if s.get("mode") == "native" else ["scale"]
    if s.get("intensity_bands", "joint") == "joint" or s.get("intensity_window"):
        unused.append("intensity_bands")
    if s.get("intensity_window"):
        return [*unused, "intensity", "intensity_top"]
    if s.get("intensity") == "image" or s.get("intensity_top", 100) >= 100:
        unused.append("intensity_top")
    return [*unused, "intensity_window"]


def _model_unused(s: dict, train: dict | None = None) -> list[str]:
    """The encoder is arch smp's; the built-in unet has none (nor weights to fetch). smp's
    Unet has its own widths and batch norm, and no dropout: the unet's shape keys do not
    apply to it. Fine-tuning (the `train` section's init_from) replaces the encoder's
    pretrained weights, and their normalisation, with the source model's."""
    if s.get("arch") != "smp":
        return ["encoder", "encoder_weights"]
    unused = ["base_width", "bilinear", "norm", "dropout"]
    return unused + ["encoder_weights"] if (train or {}).get("init_from") else unused


def _amp_unused(s: dict) -> list[str]:
    """amp is CUDA's, amp_cpu the CPU's: a device named outright uses one of them (auto may
    be either)."""
    device = s.get("device", "auto")
    return ["amp"] if device == "cpu" else ["amp_cpu"] if device.startswith("cuda") else []


def _train_unused(s: dict) -> list[str]:
    """momentum is sgd's and rmsprop's; warmup_epochs the per-step schedules' (plateau halves
    the rate per epoch from the start: unet.train.optim); elastic's shape with elastic on;
    patch sampling with patches; reinit_head with init_from; val_every 1 and border_weight
    without objects do what training did before the keys existed."""
    unused = _amp_unused(s)
    if s.get("optimizer") not in ("sgd", "rmsprop"):
        unused.append("momentum")
    if s.get("schedule") == "plateau":
        unused.append("warmup_epochs")
    if not s.get("augment", {}).get("elastic"):
        unused += ["augment.elastic_sigma", "augment.elastic_p"]
    if not s.get("patch", {}).get("size"):
        unused += ["patch.foreground", "patch.per_image"]
    if not s.get("init_from"):  # a new output layer of a source model: with one only
        unused.append("reinit_head")
    # keys added after results existed, left out at their no-op values so those stay fresh
    if s.get("val_every", 1) == 1:
        unused.append("val_every")
    if (s.get("border_weight") or {}).get("objects") is None:
        unused.append("border_weight")
    return unused


def _crf_unused(s: dict) -> list[str]:
    """CRF off: nothing but tune.max_images and max_side, on which finalize_masks scores the
    other candidates. Tuning off: its grid. Tuning on: the keys its grid sets (each tried
    value replaces the key's own)."""
    tune = s.get("tune", {})
    if not s.get("enabled", True):
        kept = ("enabled", "tune")
        return [k for k in s if k not in kept] + [
            f"tune.{k}" for k in tune if k not in ("max_images", "max_side")]
    if not tune.get("enabled", True):
        return ["tune.grid"]
    return [k for k, values in (tune.get("grid") or {}).items() if values]


def _split_unused(s: dict) -> list[str]:
    """A fraction of a part that split.test_ids / val_ids name outright (a list; a file may
    be empty); val_fraction with folds, which deal the validation sets."""
    unused = ["test_fraction"] if isinstance(s.get("test_ids"), list) and s["test_ids"] else []
    if (isinstance(s.get("val_ids"), list) and s["val_ids"]) or s.get("folds", 0) >= 2:
        unused.append("val_fraction")
    return unused


UNUSED = {
    "preprocess": _preprocess_unused,
    # max_values only refuses lossy masks: a cache that exists was made under a value that
    # accepted its masks; labelmap is a path: what it lists is in colors, values and names;
    # separate and tolerance are left out when off, so caches made before the keys existed
    # stay fresh
    "masks": lambda s: ["max_values", "labelmap", *([] if s.get("separate") else ["separate"]),
                        *([] if s.get("tolerance") else ["tolerance"])],
    "model": _model_unused,
    "train": _train_unused,
    "predict": _amp_unused,
    "crf": _crf_unused,
    "split": _split_unused,
    "postprocess": lambda s: [] if "small_objects" in s.get("candidates", ()) else ["min_sizes"],
    # regions, voxel_spacing, objects and iou_threshold are left out when unset, so
    # evaluations made before the keys existed stay fresh
    "evaluate": lambda s: [k for k in ("regions", "voxel_spacing", "objects") if not s.get(k)]
    + ([] if s.get("iou_threshold") is not None else ["iou_threshold"]),
}


def applicable(name: str, section: dict, train: dict | None = None) -> dict:
    """Config section `name` (an experiment's overrides merged) less the keys that do not apply
    in its mode (UNUSED; dotted keys are nested): a changed one reruns nothing. `train`: the
    experiment's train section, which decides the model's (fine-tuning, _model_unused)."""
    out = copy.deepcopy(section)
    rule = UNUSED.get(name, lambda s: [])
    for key in rule(section, train) if name == "model" else rule(section):
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.get(part, {})
        node.pop(last, None)
    return out


def tracked(name: str, section: dict) -> dict:
    """Config section `name` less its SPEED keys: what a rule's params compare."""
    return {k: v for k, v in section.items() if k not in _speed_keys(name, section)}


def untracked(name: str, section: dict) -> SimpleNamespace:
    """Config section `name`'s SPEED keys as a params value Snakemake does not record (it
    compares only params of builtin types: a SimpleNamespace is left out), for the script to
    merge back into the section (vars())."""
    return SimpleNamespace(**{k: section[k] for k in _speed_keys(name, section) if k in section})


def _speed_keys(name: str, section: dict) -> tuple[str, ...]:
    """Section `name`'s SPEED keys in its setting."""
    return SPEED[name](section) if name in SPEED else ()
