"""split.group_by's per-case scores where a user compares runs: metrics.tsv's and
experiments.tsv's per-case columns, read from summary.json's `per_case` (none without it)."""

from __future__ import annotations

# metrics.tsv: each class's and region's Dice per case, over every case and over the cases
# whose ground truth holds it, and how many do
TABLE_COLUMNS = ("per_case_dice_mean", "per_case_dice_mean_positive", "cases_held")
# and, where the cases' volumes were measured, their HD95 and boundary F1 over every case
BOUNDARY_COLUMNS = ("per_case_hd95_mean", "per_case_boundary_f1_mean")
# experiments.tsv: each method's foreground Dice per case, as the Decathlon and BraTS rank
EXPERIMENT_COLUMNS = ("per_case_foreground_dice_mean", "per_case_foreground_dice_mean_positive")


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def table_columns(summary: dict) -> list[str]:
    """metrics.tsv's per-case columns: [] where summary.json has no `per_case`; the boundary
    ones where it holds the cases' HD95 (not in summaries from before they were measured)."""
    return list(TABLE_COLUMNS) + list(BOUNDARY_COLUMNS if _measured(summary) else ()) if \
        summary.get("per_case") else []


def _measured(summary: dict) -> bool:
    """Whether summary.json's per_case holds HD95 (the cases' volumes were measured)."""
    methods = summary.get("per_case", {}).get("methods", {})
    s = next(iter(methods.values()), {}).get("classes", {})
    return "hd95" in next(iter(s.values()), {}).get("mean", {})


def table_cells(summary: dict, method: str, kind: str, key: str) -> list[str]:
    """One metrics.tsv row's per-case cells (`kind` 'classes' or 'regions', `key` the class
    index or region name): Dice blank where no test image holds it (its 1.0 is no score),
    cases_held blank for a class not scored (the background), as images_held; [] without."""
    cases = summary.get("per_case")
    if not cases:
        return []
    s = cases["methods"][method][kind][key]
    if kind == "classes":
        held = summary["methods"][method]["classes"][key].get("held", True)
        scored = int(key) in summary["scored_classes"]
    else:
        held, scored = summary["regions"]["methods"][method][key]["held"], True
    dice = [_f(s["mean"]["dice"]), _f(s["mean_positive"]["dice"])] if held else ["", ""]
    bounds = [_f(s["mean"].get(k)) if held else "" for k in ("hd95", "boundary_f1")]
    return [*dice, str(s["positive"]) if scored else "", *(bounds if _measured(summary) else [])]


def experiment_columns(summaries: list[dict]) -> list[str]:
    """experiments.tsv's per-case columns, where some summary has `per_case`; [] otherwise."""
    return list(EXPERIMENT_COLUMNS) if any(s.get("per_case") for s in summaries) else []


def experiment_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One experiments.tsv row's per-case cells for `columns` (blank where the summary has no
    cases: an experiment evaluated before split.group_by was set, or an older run)."""
    s = (summary.get("per_case") or {}).get("methods", {}).get(method, {})
    return [_f(s.get(col[len("per_case_"):])) for col in columns]
