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
            tifffile.imwrite(path, np.stack([img] * bands, -1), planarconfig="contig",
                             photometric="rgb" if bands == 3 else "minisblack")
        else:
            Image.fromarray(img).save(path)
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"m{i}.png"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1", "p2", "p3"], "val": ["p4"],
                                     "test": ["p5"]})
    return root


@pytest.mark.parametrize("bands", [0, 3, 4])
def test_an_empty_field_stays_dark(tmp_path, bands):
    # Each 16-bit image was scaled by its own brightest pixel: a field with no object had its
    # background noise stretched to full white, and 94.5 % of such a field came out foreground.
    # 16-bit colour (3: a 12-bit camera's RGB TIFF) kept its own range after grey had one.
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


@pytest.mark.parametrize("bands", [0, 3, 4])
def test_the_crf_and_the_overlays_see_the_models_image(tmp_path, bands, monkeypatch):
    # The CRF's colour kernel and the report's overlays read each 16-bit image by its own
    # range: the empty field the model saw dark (values 40-73) reached them at 139-255.
    import unet.crf.dense as dense
    from unet.common.labels import MaskMapping
    from unet.crf.dense import CRFParams, CRFTask, refine_file
    from unet.report import figures
    from unet.report.band_names import shown_image

    root = _dataset(tmp_path, bands)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H))
    span = meta["intensity_range"]
    cached = np.load(root / "cache" / "test_images.npy")[0]
    view = shown_image(root / "i5.tif", span)
    assert np.array_equal(view[..., 0], cached[..., 0])
    seen = {}
    monkeypatch.setattr(dense, "refine", lambda image, probs, *_: seen.setdefault(
        "image", image) is None or np.zeros(probs.shape[1:], np.uint8))
    np.save(tmp_path / "p.npy", np.full((2, H, W), 0.5, np.float16))
    refine_file(CRFTask(str(root / "i5.tif"), str(tmp_path / "p.npy"), str(tmp_path / "o.png"),
                        MaskMapping((0, 255)), CRFParams(), span))
    assert seen["image"].max() == cached.max()
    assert figures._display_image(root / "i5.tif", span).max() == cached.max()


@pytest.mark.parametrize("bands", [0, 4])
def test_eight_bit_images_are_not_decoded_for_the_range(tmp_path, bands, monkeypatch):
    # The range pass decoded every training image in full only to find it 8-bit (55 ms a
    # 1918x1280 JPEG, more than caching it with a draft decode): the header tells.
    import unet.cache.intensity as intensity

    paths = []
    for i in range(3):
        arr = np.full((H, W, bands) if bands else (H, W, 3), 7 * i, np.uint8)
        paths.append(tmp_path / (f"b{i}.tif" if bands else f"c{i}.jpg"))
        if bands:
            tifffile.imwrite(paths[-1], arr, photometric="minisblack", planarconfig="contig")
        else:
            Image.fromarray(arr).save(paths[-1])
    for name in ("open_image", "raw_bands"):
        monkeypatch.setattr(intensity, name, lambda *a, **k: pytest.fail("decoded"))
    assert intensity.training_range(paths, bands > 0, PreprocessSettings(), 1) is None


def _range_warnings(root: Path, caplog) -> list[str]:
    """The intensity module's warnings on caching the data set at `root`."""
    import logging

    caplog.clear()
    with caplog.at_level(logging.WARNING, "unet.cache.intensity"):
        preprocess(root / "manifest.json", root / "split.json", root / "cache",
                   PreprocessSettings(width=W, height=H))
    return [r.getMessage() for r in caplog.records
            if r.name == "unet.cache.intensity" and r.levelno == logging.WARNING]


def test_slices_scaled_each_their_own_way_are_named(tmp_path, caplog):
    # MRI slices exported with a scanner scaling each (one at a tenth of the others) were
    # cached by the data set's range without a word: that slice's brightest object at 26 of
    # 255 grey levels, where preprocess.intensity: image keeps each at full range
    (tmp_path / "a").mkdir()
    assert _range_warnings(_dataset(tmp_path / "a"), caplog) == []  # alike: no word
    root = _dataset(tmp_path)
    Image.fromarray(tifffile.imread(root / "i1.tif") // 10).save(root / "i1.tif")
    (note,) = _range_warnings(root, caplog)
    assert "i1.tif" in note and "i0.tif" not in note and "in at most 26 of 255" in note
    assert "preprocess.intensity: image" in note
