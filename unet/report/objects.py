"""evaluate.objects in the report: metrics.tsv's and experiments.tsv's object columns, per image
(objects_*) and, where each case's objects were counted in 3-D, per case (per_case_objects_*),
read from summary.json."""

from __future__ import annotations

# summary.json's object scores the table shows, each as objects_<key> (per_case_objects_<key>)
KEYS = ("tp", "fp", "fn", "split", "merged", "precision", "recall", "f1", "mean_matched_iou",
        "panoptic_quality", "dsb_score", "seg", "aji", "aji_plus", "sbd", "dic", "abs_dic")
CASES = "per_case_objects_"  # the 3-D columns' prefix, beside split.group_by's per_case_*


def _kinds(summary: dict) -> list[tuple[str, dict]]:
    """(column prefix, per-method object scores) of summary.json: the images' where objects
    were scored, then the cases' 3-D ones where those were counted; [] with objects off."""
    if "objects_rule" not in summary:
        return []
    cases = summary.get("per_case") or {}
    return [("objects_", summary["methods"]), *(
        [(CASES, cases["methods"])] if "objects_rule" in cases else [])]


def object_columns(summary: dict) -> list[str]:
    """metrics.tsv's object columns: [] where summary.json has none (evaluate.objects off)."""
    return [f"{prefix}{k}" for prefix, _ in _kinds(summary) for k in KEYS]


def object_cells(summary: dict, method: str, c: str | None) -> list[str]:
    """One metrics.tsv row's object cells: blank for background, regions (`c` None) and 0/0."""
    cells = []
    for _, methods in _kinds(summary):
        scores = methods[method].get("objects", {}).get(c) if c is not None else None
        # split and merged are missing (blank) in a summary.json written before they were
        cells += [""] * len(KEYS) if scores is None else [  # counted
            str(v) if isinstance(v, int) else "" if v is None else f"{v:.4f}"
            for v in (scores.get(k) for k in KEYS)]
    return cells


# experiments.tsv: each method's object scores, the mean over the foreground classes scored
EXPERIMENT_KEYS = ("f1", "panoptic_quality", "dsb_score")
# scores added later, each a column only where some summary has it: older runs' have none
LATER_KEYS = ("seg", "aji", "aji_plus", "sbd", "dic", "abs_dic")


def experiment_columns(summaries: list[dict]) -> list[str]:
    """experiments.tsv's object columns, where some summary has object scores (and 3-D ones,
    where some has those), with CTC's SEG, AJI, AJI+ and CVPPP's SBD, DiC, |DiC| where some has
    each (summaries before them: none); [] otherwise."""
    kinds = [k for s in summaries for k in _kinds(s)]
    later = {(p, k) for p, methods in kinds for m in methods.values()
             for c in m.get("objects", {}).values() for k in LATER_KEYS if k in c}
    return [f"{p}{k}" for p in ("objects_", CASES) if p in {q for q, _ in kinds}
            for k in (*EXPERIMENT_KEYS, *(k for k in LATER_KEYS if (p, k) in later))]


def experiment_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One experiments.tsv row's object cells: each score's mean over the foreground classes
    that have one (a class of no true and no predicted object has none), as the mIoU is a
    mean over classes; blank for a run evaluated without objects (or without 3-D ones)."""
    kinds = dict(_kinds(summary))
    cells = []
    for col in columns:
        prefix = CASES if col.startswith(CASES) else "objects_"
        classes = kinds[prefix][method].get("objects", {}).values() if prefix in kinds else []
        values = [s.get(col[len(prefix):]) for s in classes]  # older: no seg, blank
        values = [v for v in values if v is not None]
        cells.append(f"{sum(values) / len(values):.4f}" if values else "")
    return cells
