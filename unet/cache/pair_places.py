"""Every pair whose label GeoTIFF lies elsewhere than its scene, from headers before any decode.

Tiles are paired by name: a label raster cut on a neighbouring tile's grid (same size) was
cached and trained on, every object off by the tiles' distance, without a word.
"""

from __future__ import annotations

from unet.common.bad_files import listed
from unet.common.georef import georef_of, same_place
from unet.common.labels import MaskValueError
from unet.common.parallel import parallel_map

CHUNK = 256  # pairs per task: two headers each, well under a task's round trip


def _places(pairs: list[tuple[str, str]]) -> list[tuple | None]:
    """(image place, mask place) of each pair that both have, else None (unreadable files
    are named by the size check and the cache, not here)."""
    out: list[tuple | None] = []
    for image, mask in pairs:
        try:
            a, b = georef_of(image), georef_of(mask)
        except Exception:  # noqa: BLE001 - a damaged header is the cache's to name
            a = b = None
        out.append((a, b) if a and b else None)
    return out


def _place(geo: tuple) -> str:
    """A georef_of answer in words: its geotransform, and its CRS where named."""
    grid, crs = geo
    return f"({', '.join(f'{v:.10g}' for v in grid)})" + (f" in {crs}" if crs else "")


def check_pair_places(pairs: list[dict], processes: int = 1) -> None:
    """Refuse, in one error, every pair whose image and mask both carry georeferencing (GeoTIFF
    tags, or a world file or .aux.xml) that is not one pixel grid (georef.same_place)."""
    jobs = [(p["image"], p["mask"]) for p in pairs]
    chunks = [jobs[k : k + CHUNK] for k in range(0, len(jobs), CHUNK)]
    done = parallel_map(_places, chunks, processes, "read georeferencing", len(chunks))
    places = [place for chunk in done for place in chunk]
    bad = [(i, m, *place) for (i, m), place in zip(jobs, places, strict=True)
           if place and not same_place(*place)]
    if not bad:
        return
    lines = [f"{len(bad)} mask(s) lie elsewhere than their image (another tile's grid, or "
             "another CRS); a mask must be its image's pixel grid:"]
    lines += listed([f"mask {m} at {_place(b)}, its image {i} at {_place(a)}"
                     for i, m, a, b in bad])
    lines.append("Check that each mask is its image's; rasterise the labels again on the "
                 "image's grid (gdalwarp -te <its bounds> -ts <its width> <its height> -r near, "
                 "or gdal_rasterize onto a copy of the image), or drop the pair")
    raise MaskValueError("\n".join(lines))
