"""LabelMe shapes painted on a canvas of their own rows, not of the whole image: a 12 MP photo
of hundreds of small polygons cost 75 ms a shape (a full-size canvas each), and the pixels
must stay those a whole-image canvas gives, as LabelMe's own shape_to_mask paints them."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from unet.dataset import labelme
from unet.dataset.labelme import _paint


def _whole(shape: tuple[int, int], kind: str, points: tuple) -> np.ndarray:
    """The shape drawn as before: on a canvas of the whole image (h, w)."""
    canvas = Image.new("1", shape[::-1])
    draw = ImageDraw.Draw(canvas)
    if kind == "rectangle":
        (xa, ya), (xb, yb) = points
        draw.rectangle([min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)], fill=1, outline=1)
    elif kind == "circle":
        (cx, cy), (px, py) = points
        r = math.hypot(cx - px, cy - py)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=1, outline=1)
    else:
        draw.polygon(list(points), fill=1, outline=1)
    return np.asarray(canvas)


def test_a_small_shape_is_drawn_on_a_canvas_of_its_rows(monkeypatch):
    sizes = []
    new = Image.new
    monkeypatch.setattr(labelme.Image, "new", lambda mode, size, *a: sizes.append(size)
                        or new(mode, size, *a))
    out = np.zeros((3000, 4000), np.uint8)
    _paint(out, 1, "polygon", ((100.0, 200.0), (140.0, 200.0), (140.0, 230.0)), None)
    assert out.sum() > 0 and sizes and max(h for _, h in sizes) < 100


def test_pixels_are_those_of_a_whole_image_canvas():
    rng = np.random.default_rng(7)
    h, w = 40, 50
    for n in range(600):
        kind = ("polygon", "rectangle", "circle")[n % 3]
        count = rng.integers(3, 7) if kind == "polygon" else 2
        # beyond the edges too, fractional and integer coordinates
        points = rng.uniform(-15, 65, (count, 2))
        points = np.round(points * (4 if n % 2 else 1)) / (4 if n % 2 else 1)
        points = tuple(tuple(float(v) for v in p) for p in points)
        out = np.zeros((h, w), np.uint8)
        _paint(out, 3, kind, points, None)
        np.testing.assert_array_equal(out == 3, _whole((h, w), kind, points), err_msg=str(points))
