"""Keys of a config section that do not apply in its current mode (preprocess.width under
native, crf.tune.grid with tuning off, ...): their value cannot change an output, so the rules
do not get them as params (changing one reruns nothing). Every section's rules, gathered for
the rules' params; the model's and train's live in unet.common.fit_unused, which training's
resume hash imports alone: no rule's code lists this module, so a rule added here reruns nothing."""

from __future__ import annotations

from unet.common.drop_keys import drop_keys
from unet.common.fit_unused import SPEED, amp_unused, model_unused, tracked, train_unused, untracked

__all__ = ["SPEED", "UNUSED", "applicable", "tracked", "untracked"]


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
    be empty); val_fraction with folds, which deal the validation sets. stratify_by and
    metadata: left out when unset, so splits made before the keys existed stay fresh."""
    unused = ["test_fraction"] if isinstance(s.get("test_ids"), list) and s["test_ids"] else []
    if (isinstance(s.get("val_ids"), list) and s["val_ids"]) or s.get("folds", 0) >= 2:
        unused.append("val_fraction")
    return unused + [k for k in ("stratify_by", "metadata") if not s.get(k)]


UNUSED = {
    "preprocess": _preprocess_unused,
    # max_values only refuses lossy masks: a cache that exists was made under a value that
    # accepted its masks; labelmap is a path: what it lists is in colors, values and names;
    # separate and tolerance are left out when off, so caches made before the keys existed
    # stay fresh
    "masks": lambda s: ["max_values", "labelmap", *([] if s.get("separate") else ["separate"]),
                        *([] if s.get("tolerance") else ["tolerance"])],
    "model": model_unused,  # the model, train and amp rules: training's (unet.common.fit_unused)
    "train": train_unused,
    # rescale (predict_folder's own) left out at 1, so folders predicted before it stay fresh
    "predict": lambda s: amp_unused(s) + ([] if s.get("rescale", 1) != 1 else ["rescale"]),
    "crf": _crf_unused,
    "split": _split_unused,
    "postprocess": lambda s: [] if "small_objects" in s.get("candidates", ()) else ["min_sizes"],
    # regions, voxel_spacing, objects, ground_truth, pr_curve, iou_threshold, relaxed_slack left
    # out when unset, so evaluations made before the keys existed stay fresh
    "evaluate": lambda s: [k for k in ("regions", "voxel_spacing", "objects", "ground_truth",
                                       "pr_curve") if not s.get(k)]
    + [k for k in ("iou_threshold", "relaxed_slack") if s.get(k) is None]
    # ground_truth.prefix: "" left out, so ground truths set before the key existed stay fresh
    + ([] if (s.get("ground_truth") or {}).get("prefix") else ["ground_truth.prefix"]),
}


def applicable(name: str, section: dict, train: dict | None = None) -> dict:
    """Config section `name` (an experiment's overrides merged) less the keys that do not apply
    in its mode (UNUSED; dotted keys are nested): a changed one reruns nothing. `train`: the
    experiment's train section, which decides the model's (fine-tuning, model_unused)."""
    rule = UNUSED.get(name, lambda s: [])
    return drop_keys(section, rule(section, train) if name == "model" else rule(section))
