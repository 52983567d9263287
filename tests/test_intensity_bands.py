"""preprocess.intensity_bands: each scales every band of a wide image by a range of its own (a
dim nucleus channel beside a bright cytoplasm one, NIR reflectances above blue's); joint, the
default, keeps one range over all bands, as every cache and model.pt made before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.applicable import applicable
from unet.common.fileio import write_json
from unet.infer.predict_folder import _model_input
from unet.model.checkpoint import model_record

W, H = 32, 24


def _dataset(root: Path, bands: int = 2) -> Path:
    """Five 2-band (or 3-band colour) 16-bit fields: a bright band up to 4000 and dim ones up
    to 300, random values over the whole range."""
    rng, pairs = np.random.default_rng(0), []
    root.mkdir(parents=True, exist_ok=True)
    for i in range(5):
        bright = rng.integers(0, 4001, (H, W)).astype(np.uint16)
        dims = [rng.integers(0, 301, (H, W)).astype(np.uint16) for _ in range(bands - 1)]
        bright[0, 0], dims = 4000, [np.where(d == d.max(), 300, d) for d in dims]
        mask = ((bright > 2000) * 255).astype(np.uint8)
        path = root / f"i{i}.tif"
        tifffile.imwrite(path, np.stack([bright, *dims], -1), planarconfig="contig",
                         photometric="rgb" if bands == 3 else "minisblack")
        tifffile.imwrite(root / f"m{i}.tif", mask)
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"m{i}.tif"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1", "p2"], "val": ["p3"],
                                     "test": ["p4"]})
    return root


def _cache(root: Path, **kw) -> dict:
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, **kw))


@pytest.mark.parametrize("bands", [2, 3])
def test_each_band_keeps_its_grey_levels(tmp_path, bands):
    # One range over the bands left the 0-300 band in about 20 of 255 grey levels.
    joint = _cache(_dataset(tmp_path / "a", bands))
    dim = np.load(tmp_path / "a" / "cache" / "train_images.npy")[..., 1]
    assert len(np.unique(dim)) < 25 and joint["intensity_range"] == [0.0, 4000.0]
    each = _cache(_dataset(tmp_path / "b", bands), intensity_bands="each")
    dim = np.load(tmp_path / "b" / "cache" / "train_images.npy")[..., 1]
    assert len(np.unique(dim)) > 200
    assert each["intensity_range"][0] == [0.0, 4000.0]
    assert each["intensity_range"][1][1] == 300.0 and each["intensity_bands"] == "each"


@pytest.mark.parametrize("kw", [{"intensity_bands": "each"},
                                {"intensity_bands": "each", "intensity": "image"},
                                {"intensity_bands": "each", "intensity_top": 99.0}])
@pytest.mark.parametrize("bands", [2, 3])
def test_unet_predict_prepares_the_cache_s_image(tmp_path, kw, bands):
    root = _dataset(tmp_path, bands)
    meta = _cache(root, **kw)
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    assert record["intensity_bands"] == "each"
    arr, _ = _model_input(root / "i4.tif", record, meta["in_channels"])
    assert np.array_equal(arr, np.load(root / "cache" / "test_images.npy")[0])
    assert len(np.unique(arr[..., 1])) > 100


def test_joint_is_what_it_was(tmp_path):
    # An older model.pt (no intensity_bands) reads as joint; the default writes no new key.
    root = _dataset(tmp_path)
    meta = _cache(root)
    assert "intensity_bands" not in meta
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    assert "intensity_bands" not in record
    arr, _ = _model_input(root / "i4.tif", record, meta["in_channels"])
    assert np.array_equal(arr, np.load(root / "cache" / "test_images.npy")[0])
    raw = tifffile.imread(root / "i4.tif").astype(np.float64) * 255 / meta["intensity_range"][1]
    assert np.array_equal(arr, np.clip(np.round(raw), 0, 255).astype(np.uint8))


def test_joint_is_left_out_of_the_params():
    # caches made before the key existed stay fresh; a window scales every band alike
    assert "intensity_bands" not in applicable("preprocess", {"intensity_bands": "joint"})
    assert "intensity_bands" in applicable("preprocess", {"intensity_bands": "each"})
    assert "intensity_bands" not in applicable(
        "preprocess", {"intensity_bands": "each", "intensity_window": [0, 10]})


@pytest.mark.parametrize("bands", [2, 3])
@pytest.mark.parametrize("kw", [{}, {"intensity": "image"}])
def test_the_crf_and_the_overlays_see_the_models_image(tmp_path, kw, bands, monkeypatch):
    # refine_crf and the report read meta.json's intensity_range alone: under intensity image
    # the CRF's colour kernel saw the dim band by the bright one's range, in 20 grey levels.
    import unet.crf.dense as dense
    from unet.common.band_ranges import scale_of
    from unet.crf.dense import CRFParams
    from unet.crf.refine import refine_crf
    from unet.report import figures

    root = _dataset(tmp_path, bands)
    meta = _cache(root, intensity_bands="each", **kw)
    cached = np.load(root / "cache" / "test_images.npy")[0]
    seen = {}
    monkeypatch.setattr(dense, "refine", lambda image, probs, *_: seen.setdefault(
        "image", image) is None or np.zeros(probs.shape[1:], np.uint8))
    (tmp_path / "pred" / "probs").mkdir(parents=True)
    np.save(tmp_path / "pred" / "probs" / "p4.npy", np.full((2, H, W), 0.5, np.float16))
    refine_crf(root / "manifest.json", root / "cache" / "meta.json", tmp_path / "pred",
               tmp_path / "crf", CRFParams())
    assert np.array_equal(seen["image"], cached)
    shown = figures._display_image(root / "i4.tif", scale_of(meta))
    shown = shown.reshape(H, W, -1)  # a 2-band image's first band; colour's three
    assert np.array_equal(shown, cached[..., :shown.shape[-1]])


def test_unet_predict_s_input_checks_read_a_range_per_band(tmp_path, caplog):
    # The check for float images in [0, 1] unpacked the range as one (lo, hi): a per-band
    # model's list of ranges stopped unet predict with a TypeError before any image.
    import logging

    from unet.infer.input_checks import warn_unprepared_values

    grey = tmp_path / "f.tif"
    tifffile.imwrite(grey, np.full((H, W), 0.5, np.float32))
    ckpt = {"intensity_range": [[0.0, 4000.0], [0.0, 300.0]], "intensity_bands": "each",
            "intensity": "dataset", "in_channels": 2}
    with caplog.at_level(logging.WARNING):
        warn_unprepared_values([grey], ckpt)
    assert "nearly black" in caplog.text


def test_multi_band_reflectances_in_0_1_are_named_as_nearly_black(tmp_path, caplog):
    # A 4-band model trained on uint16 digital numbers (0-10000) given Sentinel-2 style float
    # reflectances in [0, 1]: only grey float images were checked, so the multi-band ones were
    # predicted all one class without a word. Their GeoTIFF fill (NaN) does not hide them.
    import logging

    from unet.infer.input_checks import warn_unprepared_values

    bands = np.full((4, H, W), 0.3, np.float32)
    bands[:, :, -3:] = np.nan  # a scene's fill
    tifffile.imwrite(tmp_path / "refl.tif", bands, photometric="minisblack",
                     planarconfig="separate")
    counts = tmp_path / "dn.tif"  # the training images' units: no warning
    tifffile.imwrite(counts, (bands * 10000).astype(np.float32), photometric="minisblack",
                     planarconfig="separate")
    ckpt = {"intensity_range": [[0.0, 3200.0], [0.0, 3400.0], [0.0, 3600.0], [0.0, 9499.0]],
            "intensity_bands": "each", "intensity": "dataset", "in_channels": 4}
    with caplog.at_level(logging.WARNING):
        warn_unprepared_values([tmp_path / "refl.tif", counts], ckpt)
    assert "nearly black" in caplog.text and "refl.tif" in caplog.text
    assert "dn.tif" not in caplog.text


def test_unet_info_and_the_onnx_metadata_give_each_band_s_range():
    # unet info stopped on a per-band model (a list formatted as a number); the ONNX metadata
    # printed the list as one range, or "each image by its own range" for image's per band.
    from unet.model.describe import _intensity
    from unet.model.export import input_note

    ckpt = {"intensity_range": [[0.0, 4000.0], [0.0, 300.0]], "intensity_bands": "each",
            "intensity": "dataset", "in_channels": 2}
    assert "band 2 to [0, 300]" in _intensity(ckpt)
    assert "band 2 to [0, 300]" in input_note(ckpt)["values"]
    own = {**ckpt, "intensity_range": None, "intensity": "image"}
    assert "each band by its own range" in _intensity(own)
    assert "each band by its own range" in input_note(own)["values"]
    joint = {**ckpt, "intensity_range": [0.0, 4000.0], "intensity_bands": None}
    assert "clipped to [0, 4000]" in _intensity(joint)


def test_a_window_per_band(tmp_path):
    # SAR in dB beside optical reflectances: one fixed window cannot fit both bands
    from snakemake.utils import validate

    from tests.conftest import REPO
    from unet.config.checks import ConfigError, check_intensity_window

    validate({"preprocess": {"intensity_window": [[0, 4000], [0, 300]]}},
             str(REPO / "config" / "schema.yaml"))
    with pytest.raises(ConfigError, match=r"band 2's \[300, 0\]"):
        check_intensity_window({"intensity_window": [[0, 4000], [300, 0]]})
    root = _dataset(tmp_path)
    meta = _cache(root, intensity_window=((0, 4000), (0, 200)))
    assert meta["intensity_range"] == [[0.0, 4000.0], [0.0, 200.0]]
    assert meta["intensity_bands"] == "each"
    cached = np.load(root / "cache" / "test_images.npy")[0]
    raw = tifffile.imread(root / "i4.tif").astype(np.float64)
    assert np.array_equal(cached[..., 1], np.clip(np.round(raw[..., 1] * 255 / 200), 0, 255))
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    arr, _ = _model_input(root / "i4.tif", record, meta["in_channels"])
    assert np.array_equal(arr, cached)
    with pytest.raises(ValueError, match="preprocess.intensity_window gives 3 windows"):
        _cache(_dataset(tmp_path / "c"), intensity_window=((0, 1), (0, 2), (0, 3)))


def test_a_band_starved_by_the_joint_range_is_named(tmp_path, caplog):
    # Nothing said that the dim band was cached in 20 of 255 grey levels, nor that a key helps.
    import logging

    with caplog.at_level(logging.WARNING):
        _cache(_dataset(tmp_path / "a"))
    said = [r.getMessage() for r in caplog.records if "intensity_bands: each" in r.getMessage()]
    assert len(said) == 1 and "band 2" in said[0] and "20 of 255" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _cache(_dataset(tmp_path / "b"), intensity_bands="each")
    assert "intensity_bands" not in caplog.text


def test_a_3_channel_hyperstack_gets_the_data_set_s_range_per_band(tmp_path):
    # ImageJ hyperstacks of 3 channels (nucleus, membrane, cytoplasm) were read as 8-bit colour
    # by the per-band pass: no range was kept, and each image was scaled by its own silently.
    rng, pairs = np.random.default_rng(0), []
    for i in range(5):
        pages = rng.integers(0, 301, (3, H, W)).astype(np.uint16)
        pages[2] = rng.integers(0, 4001, (H, W))
        pages[:, 0, 0] = 300, 300, 4000
        tifffile.imwrite(tmp_path / f"i{i}.tif", pages, imagej=True, metadata={"axes": "CYX"})
        tifffile.imwrite(tmp_path / f"m{i}.tif", ((pages[2] > 2000) * 255).astype(np.uint8))
        pairs.append({"id": f"p{i}", "image": str(tmp_path / f"i{i}.tif"),
                      "mask": str(tmp_path / f"m{i}.tif"), "size": [W, H]})
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ["p0", "p1", "p2"], "val": ["p3"],
                                         "test": ["p4"]})
    meta = _cache(tmp_path, intensity_bands="each")
    assert meta["in_channels"] == 3
    assert meta["intensity_range"] == [[0.0, 300.0], [0.0, 300.0], [0.0, 4000.0]]
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    arr, _ = _model_input(tmp_path / "i4.tif", record, 3)
    assert np.array_equal(arr, np.load(tmp_path / "cache" / "test_images.npy")[0])
