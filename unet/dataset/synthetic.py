"""Seeded procedural RGB images with segmentation masks: the built-in default data set."""

from __future__ import annotations

import colorsys
import functools
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from unet.common.fileio import atomic_path
from unet.common.maskio import write_mask_png
from unet.common.parallel import parallel_map

# Class c is always drawn as SHAPES[(c - 1) % 5], so the class is learnable from the shape;
# the two extra shapes keep up to 5 classes distinguishable (the cycle repeats after that).
SHAPES = ("ellipse", "rectangle", "polygon", "ring", "flower")

# A signed distance (px, negative inside) from shape-local coordinates (u, v).
Sdf = Callable[[np.ndarray, np.ndarray], np.ndarray]


def class_values(classes: int) -> list[int]:
    """Mask grey value of each class, index = class (0 = background)."""
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    return [round(255 * c / classes) for c in range(classes + 1)]


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(s, 1.0), min(v, 1.0)), dtype=np.float32)


def _ellipse_sdf(a: float, b: float) -> Sdf:
    def sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        # First-order distance (f - 1) / |grad f|; |f/grad f| lies in [b, a], b at the centre.
        f = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        g = np.sqrt((u / (a * a)) ** 2 + (v / (b * b)) ** 2)
        return (f - 1) * np.divide(f, g, out=np.full_like(f, b), where=g > 0)

    return sdf


def _make_shape(kind: str, rng: np.random.Generator, area: float) -> tuple[Sdf, float]:
    """An SDF of the given kind with about `area` px², and its bounding radius."""
    aspect = rng.uniform(0.45, 1.0)
    if kind in ("ellipse", "ring"):
        hole = rng.uniform(0.45, 0.65) if kind == "ring" else 0.0
        a = math.sqrt(area / (math.pi * aspect * (1 - hole * hole)))
        outer = _ellipse_sdf(a, a * aspect)
        if kind == "ellipse":
            return outer, a
        inner = _ellipse_sdf(a * hole, a * aspect * hole)
        return (lambda u, v: np.maximum(outer(u, v), -inner(u, v))), a
    if kind == "rectangle":
        corner = rng.uniform(0.05, 0.4) * aspect  # radius / long half-side; <= 0.4 short half-side
        s = math.sqrt(area / (4 * aspect - (4 - math.pi) * corner * corner))
        hx, hy, r = s, s * aspect, s * corner

        def rect(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            qx, qy = np.abs(u) - (hx - r), np.abs(v) - (hy - r)
            outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
            return outside + np.minimum(np.maximum(qx, qy), 0) - r

        return rect, math.hypot(hx, hy)
    if kind == "polygon":
        # Vertices on a circle in angular order: convex, and jitter < 0.25 keeps the centre inside.
        n = int(rng.choice([3, 5]))  # no quadrilaterals: they would pass for rectangles
        ang = 2 * math.pi * (np.arange(n) + rng.uniform(-0.2, 0.2, n)) / n
        pts = np.stack([np.cos(ang), aspect * np.sin(ang)], 1)
        nxt = np.roll(pts, -1, 0)
        unit = 0.5 * abs(float(np.sum(pts[:, 0] * nxt[:, 1] - nxt[:, 0] * pts[:, 1])))
        pts, nxt = pts * math.sqrt(area / unit), nxt * math.sqrt(area / unit)
        edges = []
        for (x0, y0), (x1, y1) in zip(pts.tolist(), nxt.tolist(), strict=True):
            ln = math.hypot(x1 - x0, y1 - y0)
            edges.append((x0, y0, (y1 - y0) / ln, (x0 - x1) / ln))  # outward normal (CCW order)

        def poly(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            dists = [(u - x) * nx + (v - y) * ny for x, y, nx, ny in edges]
            return functools.reduce(np.maximum, dists)

        return poly, math.sqrt(area / unit)
    # "flower": radius R (1 + k cos(n phi)); area = pi R² (1 + k²/2).
    n, k = int(rng.integers(4, 7)), rng.uniform(0.18, 0.32)
    big = math.sqrt(area / (math.pi * (1 + k * k / 2)))

    def flower(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        phi = np.arctan2(v, u)
        r = big * (1 + k * np.cos(n * phi))
        slope = big * k * n * np.sin(n * phi) / r  # r'/r, corrects the radial distance
        return (np.hypot(u, v) - r) / np.sqrt(1 + slope * slope)

    return flower, big * (1 + k)


def _background(
    rng: np.random.Generator, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-tone texture (sinusoids + blurred noise), (H, W, 3), and its two colours."""
    h, s, v = rng.uniform(), rng.uniform(0.05, 0.6), rng.uniform(0.2, 0.85)
    c1 = _hsv(h, s, v)
    c2 = _hsv(h + rng.uniform(-0.15, 0.15), s * rng.uniform(0.5, 1.5), v * rng.uniform(0.6, 1.3))
    # The texture is low-frequency: build it at 1/4 resolution and upsample (saves ~5 ms).
    lw, lh = -(-width // 4), -(-height // 4)
    coarse = rng.standard_normal((int(rng.integers(3, 8)), int(rng.integers(4, 10))))
    tex = np.asarray(Image.fromarray(coarse.astype(np.float32)).resize((lw, lh), Image.BICUBIC))
    tex = tex * rng.uniform(0.3, 0.8)
    lx = (np.arange(lw, dtype=np.float32)[None, :] + 0.5) * (width / lw)  # full-res px units
    ly = (np.arange(lh, dtype=np.float32)[:, None] + 0.5) * (height / lh)
    for _ in range(3):
        fx, fy = (rng.uniform(-5, 5, 2) * (2 * math.pi / max(width, height))).tolist()
        tex += np.sin(fx * lx + fy * ly + rng.uniform(0, 2 * math.pi)) * rng.uniform(0.2, 0.5)
    t = Image.fromarray(np.tanh(tex).astype(np.float32)).resize((width, height), Image.BICUBIC)
    t = (0.5 + 0.5 * np.asarray(t))[..., None]
    return c1 + (c2 - c1) * t, c1, c2


def _draw(
    rng: np.random.Generator, width: int, height: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    # Scalars are Python floats (.tolist()) so float32 arrays are not promoted to float64.
    x = np.arange(width, dtype=np.float32)[None, :] + 0.5  # pixel centres, (1, W)
    y = np.arange(height, dtype=np.float32)[:, None] + 0.5  # (H, 1)
    img, c1, c2 = _background(rng, width, height)  # (H, W, 3) float32 in [0, 1]
    mask = np.zeros((height, width), np.uint8)
    values = class_values(classes)
    n_obj = int(rng.integers(1, 4))
    for _ in range(n_obj):
        cls = int(rng.integers(1, classes + 1))
        # Binary masks use the three basic (solid, Carvana-like) shapes; ring/flower: classes >= 4.
        kind = SHAPES[int(rng.integers(3))] if classes == 1 else SHAPES[(cls - 1) % 5]
        area = rng.uniform(0.08, 0.30 - 0.06 * (n_obj - 1)) * width * height
        sdf, radius = _make_shape(kind, rng, area)
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        theta, soft = rng.uniform(0, 2 * math.pi), rng.uniform(1.0, 2.5)
        sh_dx, sh_dy = (rng.uniform(-0.12, 0.12, 2) * radius).tolist()
        for _ in range(20):  # saturated colour, kept away from both background tones
            col = _hsv(rng.uniform(), rng.uniform(0.55, 1.0), rng.uniform(0.35, 1.0))
            if min(np.linalg.norm(col - c1), np.linalg.norm(col - c2)) > 0.3:
                break
        # Work on the object's bounding box only (plus room for the soft edge and shadow).
        pad = radius + 0.25 * radius + 4
        x0, x1 = max(0, int(cx - pad)), min(width, int(cx + pad) + 1)
        y0, y1 = max(0, int(cy - pad)), min(height, int(cy + pad) + 1)
        du, dv = x[:, x0:x1] - cx, y[y0:y1] - cy
        cos, sin = math.cos(theta), math.sin(theta)
        sd = sdf(du * cos + dv * sin, dv * cos - du * sin)  # (h, w)
        su, sv = du - sh_dx, dv - sh_dy  # the same shape, offset: its drop shadow
        sd_shadow = sdf(su * cos + sv * sin, sv * cos - su * sin)
        crop = img[y0:y1, x0:x1]
        shadow = np.clip(0.5 - sd_shadow / (0.1 * radius), 0, 1) * rng.uniform(0.15, 0.4)
        crop *= 1 - shadow[..., None]
        # Shading: linear gradient across the object, darker rim, one soft highlight.
        gx, gy = (rng.uniform(-0.3, 0.3, 2) / radius).tolist()
        hx, hy = (rng.uniform(-0.4, 0.4, 2) * radius).tolist()
        light = (1 + gx * du + gy * dv) * (1 - 0.3 * np.exp(sd / (0.15 * radius)))
        glow = 0.35 * np.exp(-((du - hx) ** 2 + (dv - hy) ** 2) / (0.18 * radius * radius))
        obj = col * light[..., None]
        obj += (1 - obj) * glow[..., None]
        alpha = np.clip(0.5 - sd / soft, 0, 1)[..., None]  # antialiased edge in the image only
        crop += (obj - crop) * alpha
        mask[y0:y1, x0:x1][sd < 0] = values[cls]  # hard edge: exact geometry at pixel centres
    # Global illumination gradient, then sensor noise.
    gx, gy = (rng.uniform(-0.5, 0.5, 2) / max(width, height)).tolist()
    img *= (1 + gx * (x - width / 2) + gy * (y - height / 2))[..., None]
    # Uniform noise of the same std: 3x cheaper to draw than Gaussian, looks the same.
    img += (rng.random(img.shape, dtype=np.float32) - 0.5) * rng.uniform(0.035, 0.14)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def generate_pair(
    index: int, width: int, height: int, seed: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Image uint8 (H, W, 3) and mask uint8 (H, W) of grey class values; pure function of args."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    rng = np.random.default_rng([seed, index])  # per index: independent of count and processes
    for _ in range(100):  # objects are centred inside the image, so a retry is rare (tiny images)
        img, mask = _draw(rng, width, height, classes)
        if mask.any():
            return img, mask
    raise ValueError(f"could not place an object in a {width}x{height} image")


def _write_pair(index: int, out_dir: Path, width: int, height: int, seed: int, classes: int) -> str:
    stem = f"synth_{index:04d}"
    img, mask = generate_pair(index, width, height, seed, classes)
    with atomic_path(out_dir / "images" / f"{stem}.png") as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
    write_mask_png(out_dir / "masks" / f"{stem}.png", mask)
    return stem


def generate_dataset(
    out_dir: str | os.PathLike,
    count: int,
    width: int = 384,
    height: int = 256,
    seed: int = 0,
    classes: int = 1,
    processes: int = 1,
) -> list[str]:
    """Write `count` pairs to out_dir/images and out_dir/masks; return their stems."""
    class_values(classes)  # validates classes before any work
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    work = functools.partial(
        _write_pair, out_dir=out, width=width, height=height, seed=seed, classes=classes
    )
    return list(parallel_map(work, range(count), processes, "generate"))
