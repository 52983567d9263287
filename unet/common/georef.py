"""GeoTIFF georeferencing (the pixel grid's place and its CRS) carried to a mask as a GDAL
sidecar, `<mask>.aux.xml`, which GDAL and QGIS read beside a PNG: masks are PNGs, which hold
no GeoTIFF tags, so without it a scene's mask lay at the origin of no CRS."""

from __future__ import annotations

import io
import logging
import os
import struct
from pathlib import Path
from xml.sax.saxutils import escape

import tifffile

from unet.common.decoders import is_tiff
from unet.common.fileio import atomic_path, read_json
from unet.common.gdal_fill import GDAL_NODATA as NODATA
from unet.common.gdal_fill import tags_nodata
from unet.common.jp2_boxes import JP2, jp2_georef
from unet.common.nodata import image_nodata, mark_nodata, nodata_xml, unholdable_fix
from unet.common.probs import blank_probs, probs_path
from unet.common.world_file import sidecar_georef

PIXEL_SCALE, TIE_POINT, TRANSFORMATION, GEO_KEYS = 33550, 33922, 34264, 34735
RASTER_TYPE, GEOGRAPHIC_CRS, PROJECTED_CRS = 1025, 2048, 3072  # GeoKeys
PIXEL_IS_POINT = 2
USER_DEFINED = 32767  # a CRS spelt out in further keys: no EPSG code to name
SIDECAR = ".aux.xml"  # GDAL's name for it: <mask>.png.aux.xml
# Names that say the file is no TIFF: not opened to look (a rerun skipping thousands of masks)
NOT_TIFF = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ppm", ".pgm", ".pbm"})

# What a stack of band files keeps of its first file: the GeoTIFF tags, and GDAL's nodata,
# without which a -9999 fill squeezed the scene into a few grey levels.
CARRIED = (PIXEL_SCALE, TIE_POINT, TRANSFORMATION, GEO_KEYS, 34736, 34737, NODATA)

GeoTransform = tuple[float, float, float, float, float, float]
# a header gone or cut off: struct.error where tifffile unpacks too few bytes
_UNREADABLE = (OSError, ValueError, KeyError, IndexError, struct.error, tifffile.TiffFileError)
log = logging.getLogger(__name__)
_WARNED: set[str] = set()  # folders told once that their masks' no-data pixels hold classes


def georef_of(path: str | os.PathLike) -> tuple[GeoTransform, str | None] | None:
    """A GeoTIFF's GDAL geotransform (x0, dx, row rotation, y0, column rotation, dy; the
    first pixel's outer corner) and its CRS as `EPSG:<code>` (None where it has no code);
    beside a file without GeoTIFF tags, its `.aux.xml` or world file (world_file); None for a
    file without georeferencing or with an Orientation (its mask is turned)."""
    if Path(path).suffix.lower() in JP2:  # a GeoJP2 box's, as a band file's stack keeps it
        return (geojp2_of(path) or (None,))[0]
    if not may_be_tiff(path) or not is_tiff(path):  # a PNG or JPEG tile: a world file's place
        return sidecar_georef(path)
    with tifffile.TiffFile(path) as tif:
        return georef_of_tags(tif.pages[0].tags) or sidecar_georef(path)


def georef_of_tags(tags: tifffile.TiffTags) -> tuple[GeoTransform, str | None] | None:
    """georef_of from a first page's tags, read already (a band file's, with its pixels)."""
    if int(tags.valueof(274, 1)) != 1:
        return None
    keys = _geo_keys(tags.valueof(GEO_KEYS))
    grid = _grid(tags.valueof(PIXEL_SCALE), tags.valueof(TIE_POINT), tags.valueof(TRANSFORMATION))
    if grid is None:
        return None
    if keys.get(RASTER_TYPE) == PIXEL_IS_POINT:  # the tie point is a pixel's centre
        x0, dx, rx, y0, ry, dy = grid
        grid = (x0 - (dx + rx) / 2, dx, rx, y0 - (ry + dy) / 2, ry, dy)
    code = keys.get(PROJECTED_CRS) or keys.get(GEOGRAPHIC_CRS)
    return grid, f"EPSG:{code}" if code and code != USER_DEFINED else None


def geojp2_of(path: str | os.PathLike) -> tuple[tuple | None, float | None, list] | None:
    """A JPEG 2000 file's GeoJP2 box read as its GeoTIFF: (georef_of_tags, its nodata value,
    carried_of_tags); None where it has none, or one that cannot be read."""
    tiff, _ = jp2_georef(path)
    if tiff is None:
        return None
    try:
        with tifffile.TiffFile(io.BytesIO(tiff)) as tif:
            tags = tif.pages[0].tags
            return georef_of_tags(tags), tags_nodata(tags), carried_of_tags(tags)
    except _UNREADABLE:  # a damaged box: the file is read as of no place
        return None


def may_be_tiff(path: str | os.PathLike) -> bool:
    """Whether a file's name leaves it possibly a TIFF (.tif, or an extension of no other kind)."""
    return Path(path).suffix.lower() not in NOT_TIFF


def may_hold_nodata(path: str | os.PathLike) -> bool:
    """Whether a file may mark no data: possibly a TIFF, or a PNG or WebP (its alpha); a JPEG
    or GIF is not opened."""
    return may_be_tiff(path) or Path(path).suffix.lower() in (".png", ".webp")


def same_place(a: tuple[GeoTransform, str | None], b: tuple[GeoTransform, str | None]) -> bool:
    """Whether two georef_of answers are one pixel grid: CRSs alike where both are named, and
    each geotransform term within a thousandth of a pixel (a rounding in a product's tags)."""
    (ga, ca), (gb, cb) = a, b
    pixel = max(abs(v) for v in (*ga[1:3], *ga[4:6])) or 1.0
    return (ca is None or cb is None or ca == cb) and all(
        abs(u - v) <= 1e-3 * pixel for u, v in zip(ga, gb, strict=True))


def carried_of_tags(tags: tifffile.TiffTags) -> list[tuple]:
    """A first page's GeoTIFF and nodata tags (read already) as tifffile's `extratags`, to
    write them again into a file of the same pixel grid; [] for a page without them."""
    return [(t.code, t.dtype, t.count, t.value, True) for t in map(tags.get, CARRIED) if t]


def _geo_keys(directory) -> dict[int, int]:
    """The GeoKeys held in the directory itself (short values): key -> value."""
    if not directory or len(directory) < 4:
        return {}
    entries = directory[4 : 4 + 4 * int(directory[3])]
    return {int(entries[k]): int(entries[k + 3]) for k in range(0, len(entries) - 3, 4)
            if int(entries[k + 1]) == 0}


def _grid(scale, tie, matrix) -> GeoTransform | None:
    """The geotransform from a 4x4 model transformation, or a pixel scale and a tie point."""
    if matrix is not None and len(matrix) >= 8:
        m = [float(v) for v in matrix]
        return (m[3], m[0], m[1], m[7], m[4], m[5])
    if scale is None or tie is None or len(scale) < 2 or len(tie) < 6:
        return None
    (i, j, _, x, y, _), (sx, sy) = [float(v) for v in tie[:6]], [float(v) for v in scale[:2]]
    return (x - i * sx, sx, 0.0, y + j * sy, 0.0, -sy)  # y grows northward, rows southward


def write_georef(image: str | os.PathLike, mask: str | os.PathLike, ignore: int | None = None,
                 known: dict | None = None, probs: str | os.PathLike | None = None) -> bool:
    """Write `<mask>.aux.xml` with the image's georeferencing, or remove a stale one where
    the image has none (a scene replaced by a plain image of its name); whether written. The
    image's no-data pixels get `ignore` in the mask, declared there as its NoDataValue: from
    `known` (image -> image_nodata, taken out) where prediction decoded it, else read; NaN
    there in the mask's probabilities `probs` (pred/probs), where given, once marked."""
    side = Path(f"{mask}{SIDECAR}")
    geo = georef_of(image)
    if known is not None and image in known:
        void = known.pop(image)
    else:
        void = image_nodata(image) if may_hold_nodata(image) else None
    marked = mark_nodata(mask, void, ignore) if void is not None and ignore is not None else []
    if void is not None and not marked:
        _warn_unmarked(mask, ignore)
    if marked and probs is not None:
        blank_probs(probs, void)
    if geo is None and not marked:
        side.unlink(missing_ok=True)
        return False
    lines = ["<PAMDataset>"]
    if geo is not None:
        grid, crs = geo
        if crs:
            lines.append(f"  <SRS>{escape(crs)}</SRS>")
        lines.append(f"  <GeoTransform>{', '.join(f'{v:.17g}' for v in grid)}</GeoTransform>")
    if marked:
        lines += nodata_xml(marked)
    with atomic_path(side) as tmp:
        tmp.write_text("\n".join([*lines, "</PAMDataset>", ""]), encoding="utf-8")
    return True


def _warn_unmarked(mask: str | os.PathLike, ignore: int | None) -> None:
    """Once a folder: a scene's no-data pixels were left as the classes predicted there."""
    folder = str(Path(mask).parent)
    if folder in _WARNED:
        return
    _WARNED.add(folder)
    why = ("the labels have no ignore value: set masks.ignore (a value no class holds, e.g. 255) "
           "and retrain" if ignore is None else
           f"its PNG cannot hold {unholdable_fix(ignore)}, and retrain")
    log.warning("%s: its image's no-data pixels keep the classes predicted there (so do other "
                "masks in %s), as %s, to have them written as no data", mask, folder, why)


def georef_masks(manifest: str | os.PathLike | dict, ids: list[str],
                 masks_dir: str | os.PathLike, ignore: int | None = None,
                 pred_dir: str | os.PathLike | None = None) -> int:
    """write_georef for each id's masks_dir/<id>.png from its image in the data set's manifest
    (a path, or read already): the workflow's pred/, crf/ and final/ masks, as `unet predict`'s,
    no-data pixels as `ignore` (write_georef), and NaN in pred_dir/probs/<id>.npy, where given;
    the number written. An image gone or damaged since preprocessing (predicting needs only the
    cache) costs its sidecar, with a warning, not the folder of masks written."""
    pairs = (manifest if isinstance(manifest, dict) else read_json(manifest))["pairs"]
    images = {p["id"]: p["image"] for p in pairs}
    written, unread = 0, []
    for i in ids:
        try:
            written += write_georef(images[i], Path(masks_dir) / f"{i}.png", ignore, None,
                                    None if pred_dir is None else probs_path(pred_dir, i))
        except _UNREADABLE as err:
            unread.append(f"{images[i]} ({getattr(err, 'strerror', None) or err})")
    if unread:
        log.warning("%d image(s) unread, so their masks in %s carry no georeferencing: %s; "
                    "restore them and rerun for their .png.aux.xml", len(unread), masks_dir,
                    "; ".join(unread[:5]) + (" ..." if len(unread) > 5 else ""))
    return written
