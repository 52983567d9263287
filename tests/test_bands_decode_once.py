"""A multi-band GeoTIFF's no-data is taken from the decode that reads its bands: with
masks.ignore set, preprocess (load_pair) decoded each scene a second time for its fill alone."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.test_crf_nodata import EDGE, H, W, _scene
from unet.common.bands import read_bands
from unet.common.labels import IGNORE_INDEX, MaskMapping


def _pair(tmp_path) -> tuple[dict, np.ndarray]:
    void = _scene(tmp_path / "s.tif")  # 4-band uint16, nodata 0 left of EDGE
    label = np.zeros((H, W), np.uint8)
    label[:, 30:] = 1
    Image.fromarray(label).save(tmp_path / "m.png")
    return {"id": "s", "image": str(tmp_path / "s.tif"), "mask": str(tmp_path / "m.png"),
            "size": [W, H]}, void


def test_preprocess_decodes_a_multi_band_scene_once_for_its_bands_and_its_fill(tmp_path,
                                                                               band_decodes):
    from unet.cache.preprocess import load_pair

    pair, void = _pair(tmp_path)
    band_decodes.clear()
    cached, index = load_pair((pair, (W, H), 4, MaskMapping((0, 1), ignore=255), None))
    assert len(band_decodes) == 1  # before: 2, the second for its no-data
    assert (index[void] == IGNORE_INDEX).all() and set(np.unique(index[:, EDGE:])) == {0, 1}
    assert (cached == read_bands(pair["image"])).all()


def test_without_masks_ignore_the_fill_is_neither_read_nor_marked(tmp_path, band_decodes):
    from unet.cache.preprocess import load_pair

    pair, void = _pair(tmp_path)
    band_decodes.clear()
    _, index = load_pair((pair, (W // 2, H // 2), 4, MaskMapping((0, 1)), None))
    assert len(band_decodes) == 1 and IGNORE_INDEX not in index
