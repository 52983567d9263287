"""Scoring one large image (evaluate_masks' per-image work: confusion counts, HD95 and
boundary F1 of each class): peak memory and time, distance transforms a tile at a time
(`unet/evaluate/distances.py`) vs one transform of the whole image (the baseline, as before).

Each scoring runs in a fresh interpreter on a side x side pair: a target of discs and a
prediction with shifted discs and specks, so that distances run near and far; and on a noisy
pair of half the side (an early-epoch prediction: the target with 10 % of its pixels flipped),
whose far pixels each went to a k-d tree before 2026-12-05.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.common import Row, child_main, peak_of, row, run_child
from benchmarks.fixtures import scratch

SIDES = {False: 8192, True: 4096}  # the whole-image baseline needs about 3 GB at 8192^2


def _pair(folder: Path, side: int, noisy: bool = False) -> Path:
    """target.npy and pred.npy, uint8 class indices (`noisy`: salt and pepper)."""
    rng = np.random.default_rng(0)
    y, x = np.ogrid[:side, :side]
    target = np.zeros((side, side), np.uint8)
    for cy, cx in rng.uniform(0.1, 0.9, (12, 2)) * side:
        target[(y - cy) ** 2 + (x - cx) ** 2 < (side / 20) ** 2] = 1
    if noisy:
        pred = target.copy()
        pred[rng.random((side, side)) < 0.1] ^= 1
    else:
        pred = np.roll(target, side // 200, axis=1)
        pred[rng.random((side, side)) < 1e-5] = 1
    np.save(folder / "target.npy", target)
    np.save(folder / "pred.npy", pred)
    return folder


def child(how: str, folder: Path) -> dict:
    """Score the pair (`tiled`: as evaluate_masks does; `whole`: one window for the image)."""
    from unet.evaluate import distances
    from unet.evaluate.boundary import image_scores

    if how == "whole":
        distances.TILE = 1 << 30
    target, pred = np.load(folder / "target.npy"), np.load(folder / "pred.npy")
    scores: dict = {}
    figures = peak_of(lambda: scores.update(image_scores(pred, target, 2)))
    return {**figures, "hd95": scores["hd95"].tolist(), "bf1": scores["boundary_f1"].tolist()}


def _both(folder: Path) -> tuple[dict, dict]:
    tiled, whole = (run_child("benchmarks.bench_evaluate", how, str(folder))
                    for how in ("tiled", "whole"))
    if (tiled["hd95"], tiled["bf1"]) != (whole["hd95"], whole["bf1"]):
        raise AssertionError(f"scores differ: tiled {tiled}, whole {whole}")
    return tiled, whole


def run(quick: bool = False) -> list[Row]:
    side = SIDES[quick]
    tiled, whole = _both(_pair(scratch(), side))
    noisy, noisy_whole = _both(_pair(scratch(), side // 2, noisy=True))
    idle = tiled["idle_kb"] / 1024
    return [
        row(f"evaluate: peak anonymous RSS scoring one {side}^2 pair, tiled vs whole transform",
            tiled["peak_anon_kb"] / 1024 - idle, "MB", whole["peak_anon_kb"] / 1024 - idle,
            goal=("<=", 0.5, "ratio"),
            note=f"above the interpreter's {idle:.0f} MB with the two masks loaded; "
            "equal scores (checked)"),
        row(f"evaluate: time scoring one {side}^2 pair, tiled vs whole transform",
            tiled["seconds"], "s", whole["seconds"]),
        row(f"evaluate: time scoring a noisy {side // 2}^2 pair, tiled vs whole transform",
            noisy["seconds"], "s", noisy_whole["seconds"],
            note=f"peak anonymous RSS {noisy['peak_anon_kb'] / 1024 - idle:.0f} MB vs "
            f"{noisy_whole['peak_anon_kb'] / 1024 - idle:.0f} MB above the interpreter; "
            "equal scores (checked)"),
    ]


if __name__ == "__main__":
    child_main(__doc__, run, child, ('HOW', 'FOLDER'))
