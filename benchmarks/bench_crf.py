"""CRF throughput: bare pydensecrf loop vs refine_all on files with 1 and 2 processes."""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydensecrf.densecrf as dcrf
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from benchmarks.common import best_of  # noqa: E402
from unet.cache.values import mapping_from_values  # noqa: E402
from unet.common.fileio import write_json  # noqa: E402
from unet.common.probs import write_probs  # noqa: E402
from unet.crf.dense import CRFParams, CRFTask, refine_all  # noqa: E402


def synthetic(seed: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Photo-like image (H, W, 3) uint8 and blurred, misaligned probabilities (2, H, W) float16."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    # Smooth background gradient plus a few ellipses: colour statistics closer to a photo than
    # pure noise, which would blow up the bilateral lattice and make every run slow.
    image = np.stack([80 + 60 * yy / h, 100 + 40 * xx / w, np.full((h, w), 120.0)], axis=-1)
    mask = np.zeros((h, w), bool)
    for _ in range(3):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.08, 0.25) * h, rng.uniform(0.08, 0.25) * w
        shape = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        image[shape] = rng.integers(0, 256, 3)
        mask |= shape
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    fg = ndimage.gaussian_filter(np.roll(mask, (6, -5), axis=(0, 1)).astype(np.float32), 6)
    fg = np.clip(0.85 * fg + 0.15 * rng.random((h, w), dtype=np.float32), 0, 1)
    return image, np.stack([1 - fg, fg]).astype(np.float16)


def bare_crf(image: np.ndarray, probs: np.ndarray, p: CRFParams) -> np.ndarray:
    """The minimal pydensecrf sequence a user would write, on arrays already in memory."""
    c, h, w = probs.shape
    crf = dcrf.DenseCRF2D(w, h, c)
    unary = -np.log(np.clip(probs.astype(np.float32), p.prob_clip, 1.0)).reshape(c, -1)
    crf.setUnaryEnergy(np.ascontiguousarray(unary))
    crf.addPairwiseGaussian(sxy=p.gaussian_sxy, compat=p.gaussian_compat)
    crf.addPairwiseBilateral(
        sxy=p.bilateral_sxy, srgb=p.bilateral_srgb, rgbim=image, compat=p.bilateral_compat
    )
    return np.argmax(np.asarray(crf.inference(p.iterations)), axis=0).reshape(h, w)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a table, write JSON; return the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", "--images", type=int, default=12, help="synthetic images (default 12)")
    ap.add_argument("--height", type=int, default=640)
    ap.add_argument("--width", type=int, default=959)
    ap.add_argument("--repeats", type=int, default=2, help="runs per variant; best is kept")
    ap.add_argument("--json", default="results/benchmarks/crf.json", help="where to write figures")
    args = ap.parse_args(argv)

    params = CRFParams()
    mapping = mapping_from_values(set(), [0, 255], None, 16)  # masks written as 0/255 PNGs
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure below
    data = [synthetic(i, args.height, args.width) for i in range(args.images)]
    with tempfile.TemporaryDirectory(prefix="bench_crf_") as tmp:
        tmp_dir = Path(tmp)
        tasks = {1: [], 2: []}
        for i, (image, probs) in enumerate(data):
            Image.fromarray(image).save(tmp_dir / f"{i}.png")
            write_probs(tmp_dir / f"{i}.npy", probs)  # float16 (C, H, W), as predict_masks
            for procs in tasks:
                out = tmp_dir / f"out{procs}" / f"{i}.png"
                tasks[procs].append(
                    CRFTask(
                        str(tmp_dir / f"{i}.png"),
                        str(tmp_dir / f"{i}.npy"),
                        str(out),
                        mapping,
                        params,
                    )
                )
        rgb = [np.array(image) for image, _ in data]  # writable, C-contiguous for pydensecrf
        bare_crf(rgb[0], data[0][1], params)  # warm-up: page in the library and allocator

        def baseline() -> None:
            for image, (_, probs) in zip(rgb, data, strict=True):
                bare_crf(image, probs, params)

        seconds = {
            "baseline": best_of(args.repeats, baseline),
            "refine_all_1": best_of(args.repeats, lambda: refine_all(tasks[1], processes=1)),
            "refine_all_2": best_of(args.repeats, lambda: refine_all(tasks[2], processes=2)),
        }

    rate = {k: args.images / v for k, v in seconds.items()}
    overhead = seconds["refine_all_1"] / seconds["baseline"] - 1
    speedup = seconds["refine_all_1"] / seconds["refine_all_2"]
    print(
        f"CRF at {args.width}x{args.height}, {args.images} images, best of {args.repeats}, "
        f"{os.cpu_count()} CPUs, load average {load_before:.2f} at start"
    )
    print(f"{'variant':<24}{'seconds':>10}{'images/s':>10}{'s/image':>10}")
    labels = {
        "baseline": "bare pydensecrf loop",
        "refine_all_1": "refine_all, 1 proc",
        "refine_all_2": "refine_all, 2 procs",
    }
    for name, label in labels.items():
        print(
            f"{label:<24}{seconds[name]:>10.2f}{rate[name]:>10.2f}"
            f"{seconds[name] / args.images:>10.3f}"
        )
    print(f"overhead at 1 process vs baseline: {overhead:+.1%} (goal <= +5%)")
    print(f"speed-up at 2 processes vs 1:      {speedup:.2f}x (goal >= 1.9x)")

    figures = {
        "images": args.images,
        "height": args.height,
        "width": args.width,
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        "loadavg_1min": load_before,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "params": dataclasses.asdict(params),
        "seconds": seconds,
        "images_per_s": rate,
        "overhead_1proc_vs_baseline": overhead,
        "speedup_2proc_vs_1proc": speedup,
        "goals": {"overhead_max": 0.05, "speedup_min": 1.9},
    }
    write_json(args.json, figures)
    print(f"wrote {args.json}")
    return figures


if __name__ == "__main__":
    main()
