"""A small replica of xView2's xBD layout (train/images/<disaster>_<n>_{pre,post}_disaster.png
and train/labels/<same stem>.json: WKT polygons in pixels under features.xy), for the WKT
reader's tests and a workflow run on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DISASTERS = ("guatemala-volcano", "hurricane-harvey", "socal-fire")
DAMAGE = ("no-damage", "minor-damage", "major-damage", "destroyed", "un-classified")
# xBD's own target values (its localisation/damage PNGs): 0 background, 1..4 by damage
OWN_VALUES = {"no-damage": "1", "minor-damage": "2", "major-damage": "3", "destroyed": "4",
              "un-classified": "ignore"}


def buildings(size: int, k: int) -> list[list[list[tuple[float, float]]]]:
    """Location `k`'s buildings, each a list of polygons (outer ring, then holes) of (x, y)
    pixel positions; vertices off pixel centres and half-pixels (no ties on a centre)."""
    s = size / 64
    shift = 3.3 * (k % 4)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]

    return [
        [[box(4.3 * s + shift, 5.2 * s, 17.7 * s + shift, 14.1 * s)]],  # a plain footprint
        [[[(30.2 * s, 6.1 * s), (45.8 * s, 9.3 * s), (41.7 * s, 21.2 * s),  # rotated
           (27.6 * s, 17.9 * s), (30.2 * s, 6.1 * s)]]],
        [[box(6.2 * s, 30.1 * s, 26.8 * s, 50.9 * s),  # a courtyard: a hole
          box(12.3 * s, 36.2 * s, 19.7 * s, 44.8 * s)]],
        [[box(36.1 * s, 34.2 * s, 44.9 * s, 42.3 * s)],  # two parts, one building
         [box(48.3 * s, 44.1 * s, 58.8 * s + shift / 3, 57.7 * s)]],
        [[box(50.2 * s, 8.3 * s, 60.9 * s, 24.1 * s)]],
    ]


def wkt(polygons: list) -> str:
    """A building's polygons as WKT: POLYGON for one, MULTIPOLYGON for more."""
    def rings(rs: list) -> str:
        return "(" + ", ".join("(" + ", ".join(f"{x:.4f} {y:.4f}" for x, y in r) + ")"
                               for r in rs) + ")"
    if len(polygons) == 1:
        return "POLYGON " + rings(polygons[0])
    return "MULTIPOLYGON (" + ", ".join(rings(p) for p in polygons) + ")"


def draw_independently(size: int, polygons_by_value: list[tuple[int, list]], scale: int = 10
                       ) -> np.ndarray:
    """PIL's rasterisation, `scale` times finer, read at each pixel's centre: value per
    building in order, holes back to what lay below (here background: no overlaps)."""
    big = Image.new("L", (size * scale, size * scale))
    draw = ImageDraw.Draw(big)
    for value, polygons in polygons_by_value:
        for outer, *holes in polygons:
            draw.polygon([(x * scale, y * scale) for x, y in outer], fill=value)
            for hole in holes:
                draw.polygon([(x * scale, y * scale) for x, y in hole], fill=0)
    centres = np.arange(size) * scale + scale // 2
    return np.asarray(big)[np.ix_(centres, centres)]


def make_xbd(root: Path, size: int = 64, per_disaster: int = 2) -> list[str]:
    """Write the replica under `root`/train; return its image stems."""
    (root / "train" / "images").mkdir(parents=True, exist_ok=True)
    (root / "train" / "labels").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    stems = []
    for d, disaster in enumerate(DISASTERS):
        for n in range(per_disaster):
            k = d * per_disaster + n
            for phase in ("pre", "post"):
                stem = f"{disaster}_{k:08d}_{phase}_disaster"
                _write_pair(root / "train", stem, size, k, phase, disaster, rng)
                stems.append(stem)
    return stems


def _write_pair(folder: Path, stem: str, size: int, k: int, phase: str, disaster: str,
                rng: np.random.Generator) -> None:
    """One image (buildings lighter than the ground, darker the more damaged) and its JSON."""
    img = Image.fromarray(rng.integers(40, 90, (size, size, 3), dtype=np.uint8))
    draw, xy = ImageDraw.Draw(img), []
    for b, polygons in enumerate(buildings(size, k)):
        damage = DAMAGE[(b + k) % len(DAMAGE)]
        shade = 230 - (40 * DAMAGE.index(damage) if phase == "post" else 0)
        for outer, *holes in polygons:
            draw.polygon(outer, fill=(shade, shade, 200))
            for hole in holes:
                draw.polygon(hole, fill=(60, 60, 60))
        props = {"feature_type": "building", "uid": f"{k}-{b}"}
        if phase == "post":
            props["subtype"] = damage
        xy.append({"properties": props, "wkt": wkt(polygons)})
    img.save(folder / "images" / f"{stem}.png")
    lng_lat = [{"properties": p["properties"], "wkt": "POLYGON ((-90.8 14.4, -90.7 14.4, "
                "-90.7 14.5, -90.8 14.4))"} for p in xy]
    meta = {"width": size, "height": size, "disaster": disaster, "img_name": f"{stem}.png",
            "disaster_type": disaster.split("-")[-1]}
    (folder / "labels" / f"{stem}.json").write_text(
        json.dumps({"features": {"lng_lat": lng_lat, "xy": xy}, "metadata": meta}))
