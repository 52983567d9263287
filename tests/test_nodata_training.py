"""With masks.ignore set, a scene's no-data pixels (an orthomosaic's transparent ground, a
GeoTIFF's fill) are cached as ignored: training's loss and validation Dice leave them out, as
the scores and the written masks do. Before, crop masks rasterised with 0 outside the field
trained the fill as background and scored it in the Dice that picks the kept epoch."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from tests.test_bands import _write_split
from tests.test_georef import _geotiff
from unet.cache.settings import PreprocessSettings
from unet.common.labels import IGNORE_INDEX

H, W = 24, 32


def _outside(k: int) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return xx < 4 + k + yy // 3  # a tilted edge of the flight, a column further each tile


def _tiles(root, n: int = 6) -> list[dict]:
    """RGBA PNG tiles (alpha 0 and white outside the field) with 0/255 crop masks that hold 0,
    background, over the outside, as a GIS rasterises polygons."""
    pairs = []
    for k in range(n):
        rgba = np.full((H, W, 4), 120, np.uint8)
        rgba[..., 3] = np.where(_outside(k), 0, 255)
        rgba[_outside(k), :3] = 255
        crop = (np.arange(W) // 4 % 2 == 0)[None, :] & ~_outside(k)
        Image.fromarray(rgba, "RGBA").save(root / f"t{k}.png")
        Image.fromarray(np.where(crop, 255, 0).astype(np.uint8)).save(root / f"m{k}.png")
        pairs.append({"id": f"t{k}", "image": str(root / f"t{k}.png"),
                      "mask": str(root / f"m{k}.png"), "size": [W, H]})
    return pairs


def _cache(root, pairs, ignore):
    from unet.cache.preprocess import preprocess
    from unet.cache.reader import load_split

    _write_split(root, pairs)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, mask_values=(0, 255),
                                         mask_ignore=ignore))
    return meta, load_split(root / "cache", "train")[1]


def test_transparent_ground_is_ignored_in_training_with_masks_ignore(tmp_path):
    pairs = _tiles(tmp_path)
    meta, masks = _cache(tmp_path, pairs, 128)
    for k, i in enumerate(meta["splits"]["train"]["ids"]):
        outside = _outside(int(i[1:]))
        assert (masks[k][outside] == IGNORE_INDEX).all(), i
        assert (masks[k][~outside] != IGNORE_INDEX).all(), i
    # the class shares are of the field alone, not the fill counted as background
    field = sum((~_outside(int(i[1:]))).sum() for i in meta["splits"]["train"]["ids"])
    crop = sum(int((masks[k] == 1).sum()) for k in range(len(masks)))
    assert abs(meta["class_fractions"][1] - crop / field) < 1e-6


def test_without_masks_ignore_the_labels_are_cached_as_they_are(tmp_path):
    pairs = _tiles(tmp_path)
    _, masks = _cache(tmp_path, pairs, None)
    assert IGNORE_INDEX not in np.unique(masks)


def test_a_geotiffs_fill_is_ignored_in_training_with_masks_ignore(tmp_path):
    pairs = _tiles(tmp_path, 4)
    for k, pair in enumerate(pairs):
        grey = np.where(_outside(k), 0, 1000).astype(np.uint16)  # fill 0 outside the scene
        path = _geotiff(tmp_path / f"s{k}.tif", grey)
        with tifffile.TiffFile(path) as tif:  # the same scene with GDAL's nodata tag
            tags = [(t.code, t.dtype, t.count, t.value, True) for t in tif.pages[0].tags.values()
                    if t.code in (33550, 33922, 34735)]
        nodata = (42113, "s", 2, "0", True)  # GDAL_NODATA
        tifffile.imwrite(path, grey, photometric="minisblack", extratags=[*tags, nodata])
        pair["image"] = str(path)
    meta, masks = _cache(tmp_path, pairs, 128)
    for k, i in enumerate(meta["splits"]["train"]["ids"]):
        assert (masks[k][_outside(int(i[1:]))] == IGNORE_INDEX).all(), i
