"""`unet score`'s model: the one the prediction folder's record names (unet predict's
.unet-predict.jsonl), or --model, refused where it is not the model that made the masks."""

from __future__ import annotations

import os
from pathlib import Path

from unet.infer.named import named_models

# resume's own reader and hasher, not copies; left private there, as an edit of resume.py
# reruns every predict_folder job (its code input)
from unet.infer.resume import RECORD
from unet.infer.resume import _model as model_entry
from unet.infer.resume import _read as read_record

PREDICT_AGAIN = "unet predict MODEL IMAGES -o PRED --overwrite"


def _recorded(pred_dir: Path) -> list[dict]:
    """The model files (path, stat, sha256) the folder's record says made its masks."""
    header = read_record(pred_dir / RECORD)[0] or {}
    models = header.get("models")
    return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []


def _short(sha: str | None) -> str:
    return f"SHA-256 {str(sha)[:12]}..."


def scored_model(pred_dir: str | os.PathLike, given: str | None) -> str:
    """The model whose class values read the truth: `given` (--model; a file or an experiment's
    folder), refused where its weights are not among those the record names (another model's
    masks would be read in its values); without it, the recorded one, refused where that file
    is gone or holds other weights since. A folder without a record needs --model."""
    pred_dir = Path(pred_dir)
    recorded = _recorded(pred_dir)
    paths = ", ".join(str(m.get("path")) for m in recorded)
    if given is None:
        if not recorded:
            raise FileNotFoundError(
                f"{pred_dir} holds no {RECORD} naming the model that predicted its masks (unet "
                "predict writes it): give --model, the model.pt "
                "that predicted them (or its experiment's folder)")
        first = recorded[0]  # folds share one mapping (check_same_data)
        path = str(first.get("path"))
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: no such file, but {pred_dir / RECORD} names it as the model that "
                "predicted these masks: give --model, where that model.pt is now")
        now = model_entry(path, [first])["sha256"]  # the recorded digest where the file's stat is
        if now != first.get("sha256"):
            raise ValueError(
                f"{path} holds other weights ({_short(now)}) than the model that predicted "
                f"{pred_dir}'s masks ({_short(first.get('sha256'))}, {RECORD} there says so; "
                f"retrained since?): give --model the file that predicted them, or predict "
                f"again with this one ({PREDICT_AGAIN})")
        return path
    digests = {m.get("sha256") for m in recorded}
    for f in named_models(given) if recorded else []:
        if (sha := model_entry(f, recorded)["sha256"]) not in digests:
            raise ValueError(
                f"--model {f} ({_short(sha)}) is not the model that predicted {pred_dir}'s "
                f"masks: {RECORD} there names {paths} ({', '.join(map(_short, digests))}); "
                "scores read in another model's class values are wrong: leave --model out "
                f"(the recorded one is used), or predict again with this one ({PREDICT_AGAIN})")
    return given
