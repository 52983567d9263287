"""A whole-slide pyramid cached at preprocess.scale 0.25: its full resolution decoded then
shrunk (before 2026-12-06) vs its quarter level decoded (levels.py): time and peak memory,
each read in a fresh interpreter.

python -m benchmarks.bench_pyramid [--quick]   # 8000x6000 (--quick: 2000x1500), JPEG tiles
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.common import PeakAnon, Row, child_main, row, run_child, status_kb
from benchmarks.fixtures import scratch

SIZE = {False: (8000, 6000), True: (2000, 1500)}  # (w, h) of level 0
SCALE = 0.25
LEVELS = 4  # 1, 1/2, 1/4, 1/8, as libvips' --pyramid writes them


def write_slide(path: Path, w: int, h: int) -> None:
    """A JPEG-tiled BigTIFF pyramid, its reduced levels SubIFDs (QuPath's, OME's layout)."""
    import tifffile

    rng, level = np.random.default_rng(0), np.empty((h, w, 3), np.uint8)
    for y in range(0, h, 500):  # float temporaries of 500 rows, not of the slide
        yy, xx = np.mgrid[y : min(h, y + 500), :w].astype(np.float32)
        tissue = np.stack([180 + 60 * np.sin(xx / 97), 120 + 80 * np.sin(yy / 61),
                           170 + 50 * np.cos((xx + yy) / 43)], -1)
        level[y : y + 500] = (tissue + rng.normal(0, 12, tissue.shape)).clip(0, 255)
    kw = {"tile": (256, 256), "compression": "jpeg", "photometric": "rgb"}
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(level, subifds=LEVELS - 1, **kw)
        for _ in range(LEVELS - 1):
            level = level[::2, ::2]
            tif.write(np.ascontiguousarray(level), subfiletype=1, **kw)


def child(how: str, path: Path) -> dict:
    """Cache `path` at SCALE as load_pair does (`how`: 'level0' as before, 'level' now)."""
    from unet.cache.preprocess import resize_image
    from unet.common.imageio import image_size, open_image

    full = image_size(path)
    size = tuple(max(1, round(v * SCALE)) for v in full)
    base = status_kb("RssAnon")
    sampler = PeakAnon()
    sampler.start()
    t0 = time.perf_counter()
    im = open_image(path) if how == "level0" else open_image(path, draft_to=size)
    arr = resize_image(im, size, 3)
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    peak = max(sampler.peak, status_kb("RssAnon")) - base
    return {"seconds": seconds, "peak_mb": peak / 1024, "shape": list(arr.shape)}


def run(quick: bool = False) -> list[Row]:
    """Time and peak anonymous memory of both reads of one slide, and their ratios."""
    w, h = SIZE[quick]
    path = scratch() / "slide.tif"
    write_slide(path, w, h)
    mod = "benchmarks.bench_pyramid"
    before, after = run_child(mod, "level0", str(path)), run_child(mod, "level", str(path))
    assert before["shape"] == after["shape"], (before, after)
    what = f"{w}x{h} JPEG-tiled pyramid at scale {SCALE}"
    return [
        row("pyramid: read at scale, time", after["seconds"], "s", before["seconds"],
            goal=("<=", 0.5, "ratio"), note=f"{what}; baseline: level 0 decoded, then shrunk"),
        row("pyramid: read at scale, peak anonymous RSS", after["peak_mb"], "MB",
            before["peak_mb"], goal=("<=", 0.25, "ratio"), note=what),
    ]


if __name__ == "__main__":
    child_main(__doc__, run, child, ("HOW", "SLIDE"))
