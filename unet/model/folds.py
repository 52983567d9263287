"""An experiment folder's cross-validation models: the folds of its latest run, all of them."""

from __future__ import annotations

import json
from pathlib import Path

from unet.model import checkpoint


def _recorded(found: dict[int, Path]) -> dict[int, tuple[int | None, str | None]]:
    """Each fold's record of its run, as its model file holds it: the fold count and the
    digest of the folds' ids (older files: None)."""
    records = {k: checkpoint.load(path) for k, path in found.items()}
    return {k: (r.get("folds"), r.get("folds_digest")) for k, r in records.items()}


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


def _refuse_other_splits(exp: Path, found: dict[int, Path], digests: dict[int, str | None]
                         ) -> None:
    """Refuse folds whose run dealt other ids (split.seed or the data changed, and the rerun
    stopped before retraining them): the newest file's fold ids are the latest run's. Files
    that record no digest (older ones) are not compared."""
    recorded = [k for k in found if digests[k]]
    if not recorded:
        return
    latest = digests[max(recorded, key=lambda k: found[k].stat().st_mtime)]
    stray = [str(found[k]) for k in sorted(recorded) if digests[k] != latest]
    if stray:
        raise _refuse(exp, f"{', '.join(stray)} trained on other folds than the newest fold "
                           "(other ids in them: split.seed or the data changed since), and "
                           "rerunning the workflow retrains it")


def experiment_folds(exp: Path) -> list[Path]:
    """folds/<k>/model.pt of `exp` in fold order, when they are exactly folds 0..n-1 of one run
    (n as the files record it, else as the dataset's cache lists); otherwise ValueError naming
    the stray or missing files. Files that record no count and no cache: every fold found."""
    found = {int(p.parent.name): p for p in exp.glob("folds/*/model.pt")
             if p.parent.name.isdigit()}
    if not found:
        return []
    runs = _recorded(found)
    counts = {k: count for k, (count, _) in runs.items()}
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
    _refuse_other_splits(exp, found, {k: digest for k, (_, digest) in runs.items()})
    missing = [str(exp / f"folds/{k}/model.pt") for k in range(latest) if k not in found]
    if missing:
        raise _refuse(exp, f"the latest run has {latest} folds, and {', '.join(missing)} "
                           "is missing")
    return [found[k] for k in range(latest)]
