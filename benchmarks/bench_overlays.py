"""The report's best/worst overlays of large images: peak memory and time, drawn from copies
shrunk to `DISPLAY_SIDE` (what plot_results does) vs the full arrays (the baseline, as before).

Each drawing runs in a fresh interpreter: 4 rows (image, ground truth, raw, CRF) of one
side x side RGB image and its mask, the layout `write_overlays` draws.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_tiles import _image
from benchmarks.common import Row, child_main, peak_of, row, run_child
from benchmarks.fixtures import scratch

ROWS, PANELS = 4, ("ground truth", "raw", "crf")
SIDES = {False: 4096, True: 2048}  # the full-array baseline needs 4.3 GB at 4096^2


def child(how: str, image: Path) -> dict:
    """Draw the overlays (`shrunk`: as the report does; `full`: DISPLAY_SIDE lifted)."""
    from unet.common.labels import MaskMapping
    from unet.report import figures

    if how == "full":
        figures.DISPLAY_SIDE = 1 << 30
    mask = image.with_name(image.stem + "_mask.png")
    rows = [{"id": f"r{k}", "image": image, "panels": [(p, mask) for p in PANELS]}
            for k in range(ROWS)]
    out = image.with_name(f"overlays_{how}.png")
    return peak_of(lambda: figures.plot_overlays(rows, out, MaskMapping((0, 255))))


def run(quick: bool = False) -> list[Row]:
    side = SIDES[quick]
    image = scratch() / "overlay.png"
    _image(image, side)
    shrunk, full = (run_child("benchmarks.bench_overlays", how, str(image))
                    for how in ("shrunk", "full"))
    return [
        row(f"overlays: peak anonymous RSS, {ROWS} rows of {side}^2, shrunk vs full arrays",
            shrunk["peak_anon_kb"] / 1024, "MB", full["peak_anon_kb"] / 1024,
            goal=("<=", 0.5, "ratio"),
            note=f"idle interpreter {shrunk['idle_kb'] / 1024:.0f} MB; panels drawn from at "
            "most 1024 px a side"),
        row(f"overlays: drawing time, {ROWS} rows of {side}^2, shrunk vs full arrays",
            shrunk["seconds"], "s", full["seconds"], goal=("<=", 0.5, "ratio")),
    ]


if __name__ == "__main__":
    child_main(__doc__, run, child, ('HOW', 'IMAGE'))
