"""Keys of the model and train sections that do not apply in their mode (train.momentum under
adamw, model.encoder for the built-in unet, ...), and train's speed keys (SPEED): training's
resume hash skips them and train_unet's params leave them out. A module of its own, imported
by unet.train.resume: only these rules join training's code, so a rule added for another
section (unet.common.applicable) retrains nothing."""

from __future__ import annotations

from types import SimpleNamespace

from unet.common.drop_keys import drop_keys


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


def model_unused(s: dict, train: dict | None = None) -> list[str]:
    """The encoder is arch smp's; the built-in unet has none (nor weights to fetch). smp's
    Unet has its own widths and batch norm, and no dropout: the unet's shape keys do not
    apply to it. Fine-tuning (the `train` section's init_from) replaces the encoder's
    pretrained weights, and their normalisation, with the source model's."""
    if s.get("arch") != "smp":
        return ["encoder", "encoder_weights"]
    unused = ["base_width", "bilinear", "norm", "dropout"]
    return unused + ["encoder_weights"] if (train or {}).get("init_from") else unused


def amp_unused(s: dict) -> list[str]:
    """amp is CUDA's, amp_cpu the CPU's: a device named outright uses one of them (auto may
    be either). Predict's rule too (unet.common.applicable)."""
    device = s.get("device", "auto")
    return ["amp"] if device == "cpu" else ["amp_cpu"] if device.startswith("cuda") else []


def train_unused(s: dict) -> list[str]:
    """momentum is sgd's and rmsprop's; warmup_epochs the per-step schedules' (plateau halves
    the rate per epoch from the start: unet.train.optim); elastic's shape with elastic on;
    patch sampling with patches; reinit_head with init_from; val_every 1 and border_weight
    without objects do what training did before the keys existed."""
    unused = amp_unused(s)
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


def applicable_model(section: dict, train: dict | None = None) -> dict:
    """The model section less the keys that do not apply (model_unused); `train`: the
    experiment's train section, which decides fine-tuning's."""
    return drop_keys(section, model_unused(section, train))


def applicable_train(section: dict) -> dict:
    """The train section less the keys that do not apply (train_unused)."""
    return drop_keys(section, train_unused(section))


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
