"""evaluate.regions in the report: metrics.tsv rows and experiments.tsv columns for each region
(a union of classes scored as one, e.g. BraTS' whole tumour), read from summary.json."""

from __future__ import annotations


def _f(value: float | None, held: bool = True) -> str:
    return "" if value is None or not held else f"{value:.4f}"


def region_rows(summary: dict, method: str, fractions: list[float] | None = None) -> list[list]:
    """metrics.tsv rows of `method`'s regions, in the class rows' columns: class 'region', the
    values (or names) it lists, its name, its share of the training pixels (its classes'
    shares summed), its scores (blank where no test image holds it, as a class's; boundary F1
    and HD95 blank for a summary from before they were scored), and its image counts. None
    without regions."""
    regions = summary.get("regions")
    if not regions:
        return []
    rows = []
    for name, s in regions["methods"][method].items():
        share = sum(fractions[c] for c in regions["classes"][name]) if fractions else None
        held, n = s["held"], s["images"]
        rows.append([
            method, "region", str(regions["listed"][name]), name, _f(share),
            *(_f(s["global"][k], held) for k in ("dice", "iou", "precision", "recall")),
            *(_f(s["mean_per_image"].get(k), held) for k in ("dice", "boundary_f1", "hd95")),
            _f(s["mean_positive"]["dice"]),
            f"{summary['methods'][method]['pixel_accuracy']:.4f}",
            str(n["positive"]), str(n["missed"]), str(n["false_positive"]),
        ])
    return rows


def region_columns(summaries: list[dict]) -> list[str]:
    """experiments.tsv's region columns: each region's global and mean-per-image Dice
    (region_<name>_dice_global, _dice_mean), over every summary's regions; [] without."""
    names = dict.fromkeys(n for s in summaries for n in (s.get("regions") or {}).get("listed", {}))
    return [f"region_{n}_dice_{k}" for n in names for k in ("global", "mean")]


def region_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One experiments.tsv row's region cells for `columns` (blank where the summary lacks
    the region, or no test image holds it)."""
    scores = (summary.get("regions") or {}).get("methods", {}).get(method, {})
    cells = []
    for col in columns:
        name, kind = col[len("region_"):].rsplit("_dice_", 1)
        s = scores.get(name)
        key = "global" if kind == "global" else "mean_per_image"
        cells.append(_f(s[key]["dice"], s["held"]) if s else "")
    return cells
