"""Multi-band images: TIFFs of 2 or more than 3 bands that are not alpha (RGB + near-infrared
orthophotos such as ISPRS Potsdam's RGBIR, Sentinel-1's VV and VH, multispectral stacks) train
a model of that many input channels. They were refused; PIL had read RGBIR as RGB."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict, _write_split
from unet.cache.settings import PreprocessSettings
from unet.common.bands import band_count, read_bands
from unet.report.band_names import shown_image


def _write(path, arr, **kw):
    tifffile.imwrite(path, arr, planarconfig="contig", **kw)
    return path


def test_band_counts(tmp_path):
    a4 = np.zeros((6, 5, 4), np.uint8)
    assert band_count(_write(tmp_path / "rgbir.tif", a4, photometric="rgb",
                             extrasamples=["unspecified"])) == 4
    assert band_count(_write(tmp_path / "ms.tif", np.zeros((6, 5, 6), np.uint16),
                             photometric="minisblack")) == 6
    assert band_count(_write(tmp_path / "sar.tif", np.zeros((6, 5, 2), np.float32),
                             photometric="minisblack")) == 2
    assert band_count(_write(tmp_path / "rgba.tif", a4, photometric="rgb",
                             extrasamples=["unassalpha"])) == 0  # colour with alpha
    assert band_count(_write(tmp_path / "rgb.tif", a4[..., :3], photometric="rgb")) == 0
    Image.fromarray(a4[..., :3]).save(tmp_path / "rgb.png")
    assert band_count(tmp_path / "rgb.png") == 0


def test_bands_scale_by_one_range_and_the_view_is_the_first_three(tmp_path):
    arr = np.zeros((4, 5, 4), np.uint16)
    arr[..., 0], arr[..., 3] = 1000, 4000  # near-infrared brightest
    path = _write(tmp_path / "b.tif", arr, photometric="minisblack")
    bands = read_bands(path)
    assert bands.dtype == np.uint8 and bands.shape == (4, 5, 4)
    assert bands[0, 0].tolist() == [64, 0, 0, 255]  # one range over the bands: ratios kept
    assert shown_image(path).shape == (4, 5, 3)
    assert shown_image(_write(tmp_path / "s.tif", arr[..., :2], photometric="minisblack")).shape \
        == (4, 5, 1)


def _rgbir(root, n: int = 8, bands: int = 4) -> None:
    """Discs that only the near-infrared band shows (equal in R, G and B)."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        disc = _disc(i) > 0.5
        img = rng.integers(90, 110, (H, W, bands)).astype(np.uint8)
        img[..., 3][disc] = 220
        path = _write(root / f"img{i}.tif", img, photometric="rgb", extrasamples=["unspecified"]) \
            if bands == 4 else _write(root / f"img{i}.tif", img, photometric="minisblack")
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / f"msk{i}.png")
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"msk{i}.png"),
                      "size": [W, H]})
    _write_split(root, pairs)


def test_a_multi_band_data_set_trains_and_predicts_on_every_band(tmp_path):
    from unet.cache.reader import load_split

    _rgbir(tmp_path)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 4
    images = load_split(tmp_path / "cache", "train")[0]
    assert images.shape[1:] == (H, W, 4) and images[..., 3].max() >= 200
    masks = _train_and_predict(tmp_path)
    assert len(list(masks.glob("*.png"))) == 2


def test_the_crf_and_the_overlays_see_the_first_three_bands(tmp_path):
    from unet.common.labels import MaskMapping
    from unet.crf.dense import CRFParams, CRFTask, refine_file
    from unet.report.figures import _display_image

    _rgbir(tmp_path, n=1)
    probs = np.full((2, H, W), 0.5, np.float16)
    np.save(tmp_path / "p.npy", probs)
    out = refine_file(CRFTask(str(tmp_path / "img0.tif"), str(tmp_path / "p.npy"),
                              str(tmp_path / "crf.png"), MaskMapping((0, 255)),
                              CRFParams(iterations=1)))
    assert Image.open(out).size == (W, H)
    assert _display_image(tmp_path / "img0.tif").shape == (H, W, 3)


def test_mixed_band_counts_are_refused_naming_two_files(tmp_path):
    _rgbir(tmp_path)
    tifffile.imwrite(tmp_path / "img5.tif", np.zeros((H, W, 6), np.uint8),
                     photometric="minisblack", planarconfig="contig")
    with pytest.raises(ValueError, match=r"img0\.tif has 4 bands but .*img5\.tif has 6"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))


def test_new_multi_band_images_predict_and_other_band_counts_are_refused(tmp_path):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    _rgbir(tmp_path)
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    _train_and_predict(tmp_path)
    new = [tmp_path / "img6.tif", tmp_path / "img7.tif"]
    out = tmp_path / "new"
    assert predict_files([tmp_path / "model.pt"], new, out, PredictSettings(device="cpu")) == 2
    assert np.array_equal(np.asarray(Image.open(out / "img6.png")),
                          np.asarray(Image.open(tmp_path / "pred" / "masks" / "p6.png")))
    six = _write(tmp_path / "six.tif", np.zeros((H, W, 6), np.uint8), photometric="minisblack")
    with pytest.raises(ValueError, match=r"six\.tif has 6 bands; the model reads 4"):
        predict_files([tmp_path / "model.pt"], [six], tmp_path / "o2",
                      PredictSettings(device="cpu"))


def test_bands_stored_first_or_planar_come_last(tmp_path):
    # Channels-first stacks (CYX, as numpy and many tools write them) and planar TIFFs.
    arr = np.arange(5 * 4 * 6, dtype=np.uint8).reshape(5, 4, 6)  # (bands, H, W)
    tifffile.imwrite(tmp_path / "cyx.tif", arr, photometric="minisblack", planarconfig="separate")
    assert band_count(tmp_path / "cyx.tif") == 5
    bands = read_bands(tmp_path / "cyx.tif")
    assert bands.shape == (4, 6, 5) and np.array_equal(bands[..., 2], arr[2])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.float32])
def test_bands_scale_as_one_wide_image_does(tmp_path, dtype):
    # A band at a time (no float64 copy of every band), the same range and rounding as the
    # grey reader's wide_to_8_bits over the whole array.
    from unet.common.decoders import wide_to_8_bits

    rng = np.random.default_rng(1)
    arr = (rng.random((7, 9, 5)) * 3000 - (500 if dtype != np.uint16 else 0)).astype(dtype)
    if dtype == np.float32:
        arr[0, 0, 1], arr[1, 1, 2] = np.nan, np.inf
    path = _write(tmp_path / "w.tif", arr, photometric="minisblack")
    assert np.array_equal(read_bands(path), wide_to_8_bits(arr.astype(np.float64)))
