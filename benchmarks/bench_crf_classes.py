"""The dense CRF's cost as the class count grows: one 512x683 photo-like image (ADE20K's usual
size) refined with 2 classes (baseline), 21 (Pascal VOC) and 150 (ADE20K). pydensecrf's
mean-field passes filter every class's message, so the time grows with the classes; the
figures size `crf.tune` (27 settings x 12 images by default) for many-class data sets."""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import Row, interleaved, row
from unet.crf.dense import CRFParams, refine

SIZE = (512, 683)  # (h, w)
QUICK_SIZE = (128, 171)  # --quick
CLASSES = (2, 21, 150)


def _inputs(classes: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A smooth image of a few flat regions with noise, and soft probabilities that follow
    the regions (the class of a region most probable)."""
    rng = np.random.default_rng(classes)
    h, w = size
    regions = (np.arange(h)[:, None] // (h // 4)) * 4 + np.arange(w)[None, :] // (w // 4)
    label = regions % classes
    colour = rng.integers(0, 256, (regions.max() + 1, 3))
    image = np.clip(colour[regions] + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)
    logits = rng.normal(0, 1, (classes, h, w)).astype(np.float32)
    np.put_along_axis(logits, label[None], 3.0, axis=0)
    probs = np.exp(logits - logits.max(0))
    return image, (probs / probs.sum(0)).astype(np.float16)


def run(quick: bool = False) -> list[Row]:
    size = QUICK_SIZE if quick else SIZE
    inputs = {c: _inputs(c, size) for c in CLASSES}
    params = CRFParams()
    times = interleaved(1 if quick else 3, *(lambda c=c: refine(*inputs[c], params)
                                             for c in CLASSES))
    base = times[0]
    mp = size[0] * size[1] / 1e6
    rows = [row(f"CRF, {size[1]}x{size[0]}, {CLASSES[0]} classes (baseline)", base, "s",
                note=f"{base / mp:.1f} s a megapixel")]
    for c, t in zip(CLASSES[1:], times[1:], strict=True):
        rows.append(row(f"CRF, {size[1]}x{size[0]}, {c} classes", t, "s", base,
                        note=f"{t / mp:.1f} s a megapixel"))
    return rows


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test")
    print_table(run(ap.parse_args().quick))
