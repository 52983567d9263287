"""An experiment folder's cross-validation models: the folds of its latest run, all of them."""

from __future__ import annotations

import json
from pathlib import Path

from unet.model import checkpoint


def _recorded_counts(found: dict[int, Path]) -> dict[int, int | None]:
    """Each fold's run's fold count, as its model file records it (older files: None)."""
    return {k: checkpoint.load(path).get("folds") for k, path in found.items()}


def _cache_count(exp: Path) -> int | None:
    """The fold count of the dataset's cache (results/<dataset>/cache/meta.json), which the
    pipeline trains folds from; None without one."""
    try:
        return len(json.loads((exp.parent / "cache" / "meta.json").read_text())["folds"] or [])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _refuse(exp: Path, why: str) -> ValueError:
    return ValueError(
        f"{exp}: {why}. The pipeline averages the folds of its latest run only (split.folds): "
        "move or delete the files of other runs, rerun the workflow for the missing ones, or "
        "give one model file"
    )


def experiment_folds(exp: Path) -> list[Path]:
    """folds/<k>/model.pt of `exp` in fold order, when they are exactly folds 0..n-1 of one run
    (n as the files record it, else as the dataset's cache lists); otherwise ValueError naming
    the stray or missing files. Files that record no count and no cache: every fold found."""
    found = {int(p.parent.name): p for p in exp.glob("folds/*/model.pt")
             if p.parent.name.isdigit()}
    if not found:
        return []
    counts = _recorded_counts(found)
    recorded = {k: c for k, c in counts.items() if c}
    if recorded:  # the newest file's run is the latest run
        latest = recorded[max(recorded, key=lambda k: found[k].stat().st_mtime)]
    else:
        latest = _cache_count(exp)
        if latest is None:
            return [found[k] for k in sorted(found)]
    source = "its model files record" if recorded else f"{exp.parent / 'cache/meta.json'} lists"
    stray = [k for k in sorted(found) if k >= latest or counts[k] not in (None, latest)]
    if stray:
        described = ", ".join(
            f"{found[k]} (" + (f"fold {k} of a run with {counts[k]} folds" if counts[k]
                              else f"fold {k}") + ")" for k in stray)
        raise _refuse(exp, f"the latest run has {latest} folds (as {source}), "
                           f"and {described} is not one of them")
    missing = [str(exp / f"folds/{k}/model.pt") for k in range(latest) if k not in found]
    if missing:
        raise _refuse(exp, f"the latest run has {latest} folds, and {', '.join(missing)} "
                           "is missing")
    return [found[k] for k in range(latest)]
