"""The dense CRF on a GeoTIFF scene's no-data pixels: the fill is no evidence. Its saved
probabilities are the model's answer to input 0, and its one colour matched the dark ground
beside it, which the colour kernel then pulled to the fill's class."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from tests.test_georef import _geokeys
from unet.common.labels import MaskMapping
from unet.crf.dense import CRFParams, CRFTask, refine_file

H, W, EDGE, STRIP = 48, 64, 12, 24  # fill: x < EDGE; dark ground (class 1): EDGE <= x < STRIP
FILL = 0


def _scene(path) -> np.ndarray:
    """A 4-band uint16 GeoTIFF (nodata 0): a border of fill, then dark ground, then bright;
    returns the fill's (H, W) mask."""
    rng = np.random.default_rng(0)
    img = rng.integers(3000, 3050, (H, W, 4)).astype(np.uint16)
    img[:, EDGE:STRIP] = rng.integers(20, 60, (H, STRIP - EDGE, 4))  # dark as the fill: water
    img[:, :EDGE] = FILL
    keys = _geokeys(32633)
    tifffile.imwrite(path, img, photometric="minisblack", planarconfig="contig", extratags=[
        (33550, "d", 3, (10.0, 10.0, 0.0), True),
        (33922, "d", 6, (0.0, 0.0, 0.0, 500000.0, 4600000.0, 0.0), True),
        (34735, "H", len(keys), keys, True), (42113, "s", 0, str(FILL), True)])
    void = np.zeros((H, W), bool)
    void[:, :EDGE] = True
    return void


def _task(tmp_path) -> tuple[CRFTask, np.ndarray]:
    void = _scene(tmp_path / "s.tif")
    fg = np.full((H, W), 0.1)
    fg[:, EDGE:STRIP] = 0.6  # the dark ground: class 1, not sure
    fg[void] = 0.01  # the model's answer to the fill: class 0 for certain
    np.save(tmp_path / "p.npy", np.stack([1 - fg, fg]).astype(np.float16))
    task = CRFTask(str(tmp_path / "s.tif"), str(tmp_path / "p.npy"), str(tmp_path / "c.png"),
                   MaskMapping((0, 1), ignore=255), CRFParams())
    return task, void


def test_the_fill_does_not_pull_the_dark_ground_beside_it(tmp_path):
    task, void = _task(tmp_path)
    refine_file(task)
    mask = np.array(Image.open(task.out_path))
    assert (mask[:, EDGE:STRIP] == 1).all()  # before: most of the strip became class 0
    assert (mask[:, STRIP:] == 0).all()


def test_the_crf_decodes_a_multi_band_scene_once_for_its_bands_and_its_no_data(tmp_path,
                                                                                band_decodes):
    task, _ = _task(tmp_path)
    refine_file(task)
    assert len(band_decodes) == 1
