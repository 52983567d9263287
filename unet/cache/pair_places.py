"""Where a pair's label GeoTIFF lies against its scene, and the message naming those elsewhere.

Tiles are paired by name: a label raster cut on a neighbouring tile's grid (same size) was
cached and trained on, every object off by the tiles' distance, without a word.
"""

from __future__ import annotations

from unet.common.bad_files import listed
from unet.common.georef import georef_of


def pair_place(image: str, mask: str) -> tuple | None:
    """(image place, mask place) where both have one, else None (unreadable files are named
    by the header read and the cache, not here)."""
    try:
        a, b = georef_of(image), georef_of(mask)
    except Exception:  # noqa: BLE001 - a damaged header is the cache's to name
        return None
    return (a, b) if a and b else None


def _place(geo: tuple) -> str:
    """A georef_of answer in words: its geotransform, and its CRS where named."""
    grid, crs = geo
    return f"({', '.join(f'{v:.10g}' for v in grid)})" + (f" in {crs}" if crs else "")


def places_message(bad: list[tuple]) -> str:
    """The error for (image, mask, image place, mask place) rows: each named, then the fix."""
    lines = [f"{len(bad)} mask(s) lie elsewhere than their image (another tile's grid, or "
             "another CRS); a mask must be its image's pixel grid:"]
    lines += listed([f"mask {m} at {_place(b)}, its image {i} at {_place(a)}"
                     for i, m, a, b in bad])
    lines.append("Check that each mask is its image's; rasterise the labels again on the "
                 "image's grid (gdalwarp -te <its bounds> -ts <its width> <its height> -r near, "
                 "or gdal_rasterize onto a copy of the image), or drop the pair")
    return "\n".join(lines)
