"""evaluate.relaxed_slack in the report: metrics.tsv's and experiments.tsv's relaxed precision,
recall and F1 (pixels within the slack of the other mask's, summed over the test set)."""

from __future__ import annotations

KEYS = ("precision", "recall", "f1")  # each shown as relaxed_<key>
COLUMNS = tuple(f"relaxed_{k}" for k in KEYS)


def table_columns(summary: dict) -> list[str]:
    """metrics.tsv's relaxed columns: [] where summary.json has none (evaluate.relaxed_slack
    unset)."""
    return list(COLUMNS) if "relaxed" in summary else []


def table_cells(summary: dict, method: str, c: str | None) -> list[str]:
    """One metrics.tsv row's relaxed cells: the class's shares from summed counts; blank for a
    class not scored (the background), a region (`c` None), and a class no test image's
    target or prediction holds (0/0 read as perfect)."""
    if "relaxed" not in summary:
        return []
    scores = summary["relaxed"]["methods"][method]["classes"].get(c) if c is not None else None
    held = c is not None and summary["methods"][method]["classes"][c].get("held", True)
    if scores is None or not held:
        return [""] * len(KEYS)
    return [f"{scores[k]:.4f}" for k in KEYS]


def experiment_columns(summaries: list[dict]) -> list[str]:
    """experiments.tsv's relaxed columns (the slack, then the foreground's shares), where some
    summary has them; [] otherwise."""
    return ["relaxed_slack", *COLUMNS] if any("relaxed" in s for s in summaries) else []


def experiment_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One experiments.tsv row's relaxed cells: the slack and the method's foreground shares
    (every scored class's pixels summed); blank for a run evaluated without a slack."""
    got = summary.get("relaxed")
    if not columns or got is None:
        return [""] * len(columns)
    fg = got["methods"][method]["foreground"]
    return [f"{got['slack_px']:g}", *(f"{fg[k]:.4f}" for k in KEYS)]
