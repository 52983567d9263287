"""The foreground cut of a binary task's probabilities, chosen on validation instead of 0.5.

Thin structures (membranes, vessels, cracks) are often under- or over-called at the argmax's
0.5: the cut that scores best on the validation images' probabilities, from a fixed grid, may
replace it. Two classes only: with more, one class's probability has no single cut.
"""

from __future__ import annotations

import numpy as np

# 0.20-0.80 by 0.05: outside it a binary model's masks are rarely the better for it, and a
# finer grid on a few validation images would fit their noise.
CUTS = tuple(round(0.2 + 0.05 * k, 2) for k in range(13))


def cut_labels(probs: np.ndarray, cut: float, rows: int = 256) -> np.ndarray:
    """(H, W) uint8: class 1 where its probability (probs (2, H, W), memory-mapped) is above
    `cut`, else 0; `rows` rows at a time. No-data (NaN) is class 0, as the argmax gives it."""
    out = np.empty(probs.shape[1:], np.uint8)
    for y in range(0, out.shape[0], rows):
        out[y : y + rows] = np.asarray(probs[1, y : y + rows]) > cut
    return out


def best_cut(scores: dict[float, float]) -> float:
    """The cut of the best score; of equals, the nearest 0.5 (the least change to the argmax)."""
    return max(scores, key=lambda c: (scores[c], -abs(c - 0.5)))


def cut_names(scores: dict[float, float]) -> dict[str, float]:
    """The scores keyed by the cut written with two decimals, for JSON."""
    return {f"{c:.2f}": d for c, d in sorted(scores.items())}
