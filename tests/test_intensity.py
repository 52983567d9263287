"""16-bit and float images reach the model scaled by one range over the training images
(`preprocess.intensity: dataset`), so a field without objects stays as dark as the background
it is; `image` keeps each image's own range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.infer.predict_folder import _model_input
from unet.model.checkpoint import model_record

W, H = 24, 20


def _dataset(root: Path, bands: int = 0) -> Path:
    """Six 12-bit fields (background 600-900) with a 3000 square, but the test field (p5)
    has no object; band TIFFs of `bands` samples when given."""
    rng, pairs = np.random.default_rng(0), []
    for i in range(6):
        img = rng.integers(600, 900, (H, W)).astype(np.uint16)
        mask = np.zeros((H, W), np.uint8)
        if i < 5:
            img[4:12, 5 + i:15 + i] = 3000
            mask[4:12, 5 + i:15 + i] = 255
        path = root / f"i{i}.tif"
        if bands:
            tifffile.imwrite(path, np.stack([img] * bands, -1), photometric="minisblack",
                             planarconfig="contig")
        else:
            Image.fromarray(img).save(path)
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"m{i}.png"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1", "p2", "p3"], "val": ["p4"],
                                     "test": ["p5"]})
    return root


@pytest.mark.parametrize("bands", [0, 4])
def test_an_empty_field_stays_dark(tmp_path, bands):
    # Each 16-bit image was scaled by its own brightest pixel: a field with no object had its
    # background noise stretched to full white, and 94.5 % of such a field came out foreground.
    root = _dataset(tmp_path, bands)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H))
    assert meta["intensity_range"] == [0.0, 3000.0]
    test = np.load(root / "cache" / "test_images.npy")[0]
    assert test.max() <= round(900 * 255 / 3000)
    # unet predict and predict_folder prepare a new image the same way
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    arr, _ = _model_input(Path(root / "i5.tif"), record, meta["in_channels"])
    assert np.array_equal(arr, test)


def test_per_image_range_on_request(tmp_path):
    root = _dataset(tmp_path)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity="image"))
    assert meta["intensity_range"] is None
    assert np.load(root / "cache" / "test_images.npy")[0].max() == 255
