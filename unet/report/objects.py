"""evaluate.objects in the report: metrics.tsv's object columns, read from summary.json."""

from __future__ import annotations

# summary.json's object scores the table shows, each as objects_<key>
KEYS = ("tp", "fp", "fn", "precision", "recall", "f1", "mean_matched_iou", "panoptic_quality",
        "dsb_score")


def object_columns(summary: dict) -> list[str]:
    """metrics.tsv's object columns: [] where summary.json has none (evaluate.objects off)."""
    return [f"objects_{k}" for k in KEYS] if "objects_rule" in summary else []


def object_cells(summary: dict, method: str, c: str | None) -> list[str]:
    """One metrics.tsv row's object cells: blank for background, regions (`c` None) and 0/0."""
    if "objects_rule" not in summary:
        return []
    scores = summary["methods"][method].get("objects", {}).get(c) if c is not None else None
    if scores is None:
        return [""] * len(KEYS)
    return [str(v) if isinstance(v, int) else "" if v is None else f"{v:.4f}"
            for v in (scores[k] for k in KEYS)]


# experiments.tsv: each method's object scores, the mean over the foreground classes scored
EXPERIMENT_KEYS = ("f1", "panoptic_quality", "dsb_score")


def experiment_columns(summaries: list[dict]) -> list[str]:
    """experiments.tsv's object columns, where some summary has object scores; [] otherwise."""
    return [f"objects_{k}" for k in EXPERIMENT_KEYS] if any(
        "objects_rule" in s for s in summaries) else []


def experiment_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One experiments.tsv row's object cells: each score's mean over the foreground classes
    that have one (a class of no true and no predicted object has none), as the mIoU is a
    mean over classes; blank for a run evaluated without objects."""
    classes = summary["methods"][method].get("objects", {}).values()
    cells = []
    for col in columns:
        values = [s[col[len("objects_"):]] for s in classes]
        values = [v for v in values if v is not None]
        cells.append(f"{sum(values) / len(values):.4f}" if values else "")
    return cells
