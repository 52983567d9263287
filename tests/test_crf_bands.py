"""The CRF's colour kernel on images that are not 8-bit RGB: a multi-band image's every band
(a remote-sensing user's near-infrared band is often the one that parts vegetation from water;
the kernel saw the first three bands, or the first of two), each band in the 8-bit levels the
model saw, `crf.bilateral_srgb` a width per band as it is for grey and colour."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.common.labels import MaskMapping
from unet.common.maskio import read_mask
from unet.common.probs import write_probs
from unet.crf.dense import CRFParams, CRFTask, refine, refine_file
from unet.crf.features import MAX_BANDS, principal_bands

H, W, SPLIT = 40, 60, 40
# the colour kernel alone (no smoothness kernel), reaching over the whole image
PARAMS = CRFParams(iterations=5, gaussian_compat=0, bilateral_sxy=1000, bilateral_srgb=13,
                   bilateral_compat=5)


def _joined(tmp_path, image: np.ndarray, span=None, params=PARAMS) -> float:
    """Share of the weakly-background right part that the confident left part pulls into its
    class, refined from a file as refine_crf refines it."""
    fg = np.where(np.arange(W) >= SPLIT, 0.4, 0.8)[None].repeat(H, 0)
    write_probs(tmp_path / "p.npy", np.stack([1 - fg, fg]))
    if image.ndim == 3:
        tifffile.imwrite(tmp_path / "i.tif", image, photometric="minisblack",
                         planarconfig="contig")
    else:
        Image.fromarray(image).save(tmp_path / "i.tif")
    task = CRFTask(str(tmp_path / "i.tif"), str(tmp_path / "p.npy"), str(tmp_path / "o.png"),
                   MaskMapping((0, 255)), params, span)
    return float((read_mask(refine_file(task))[:, SPLIT:] > 0).mean())


def _step(bands: int, band: int, step: int, dtype=np.uint8, base: int = 100) -> np.ndarray:
    """(H, W, bands) of `base`, with the right part `step` higher in `band` alone."""
    image = np.full((H, W, bands), base, dtype)
    image[:, SPLIT:, band] += step
    return image


@pytest.mark.parametrize("bands,band", [(4, 3), (2, 1), (6, 5)])
def test_a_step_in_a_band_past_the_third_parts_regions(tmp_path, bands, band):
    # e.g. near-infrared, band 4 of RGBIR: it alone tells the right part from the left
    assert _joined(tmp_path, _step(bands, band, 0)) == 1.0  # no step: the kernel joins them
    assert _joined(tmp_path, _step(bands, band, 60)) == 0.0


@pytest.mark.parametrize("step", [0, 8, 16, 20, 30, 40])
def test_bilateral_srgb_is_a_width_per_band_whatever_the_band_count(step):
    # a step of d levels in one band parts regions as the same step in a grey image does
    fg = np.where(np.arange(W) >= SPLIT, 0.4, 0.8)[None].repeat(H, 0)
    probs = np.stack([1 - fg, fg]).astype(np.float32)
    grey = _step(1, 0, step)
    for bands in (2, 4, 13):
        assert np.array_equal(refine(_step(bands, bands - 1, step), probs, PARAMS),
                              refine(grey, probs, PARAMS))


def test_a_16_bit_grey_image_above_255_is_scaled_as_the_model_saw_it(tmp_path):
    # values 1000 and 1200 all lie above 255: cut to 8 bits they would wrap, or clip to one
    # level; a step of about 28 levels parts the regions at bilateral_srgb 13
    image = _step(1, 0, 200, np.uint16, 1000)[..., 0]
    assert _joined(tmp_path, image, span=(0, 1300)) == 0.0  # 200 of 1300: 39 levels of 255
    assert _joined(tmp_path, image, span=(0, 65535)) == 1.0  # 0.8 levels
    assert _joined(tmp_path, image) == 0.0  # its own range, 0..1200: 42 levels


def test_wide_bands_are_scaled_by_the_data_sets_range(tmp_path):
    image = _step(4, 3, 600, np.uint16, 3000)  # 12-bit counts; the step in band 4 alone
    assert _joined(tmp_path, image, span=(0, 4095)) == 0.0  # 600 of 4095: 37 levels
    assert _joined(tmp_path, image, span=(0, 65535)) == 1.0  # 2 levels: within the kernel


def test_more_than_four_bands_keep_their_distances_along_four_principal_axes():
    rng = np.random.default_rng(0)
    mix = rng.normal(0, 1, (4, 13))  # 13 bands spanning 4 directions, as correlated spectra do
    image = (rng.uniform(0, 12, (30, 20, 4)) @ mix + 128).clip(0, 255).round().astype(np.uint8)
    seen = principal_bands(image)
    assert seen.shape == (30, 20, MAX_BANDS)
    four = image[..., :4]
    assert principal_bands(four) is four  # up to four bands: every band as it is
    pairs = rng.integers(0, 600, (200, 2))
    flat, kept = image.reshape(-1, 13).astype(float), seen.reshape(-1, MAX_BANDS)
    apart = np.linalg.norm(flat[pairs[:, 0]] - flat[pairs[:, 1]], axis=1)
    kept_apart = np.linalg.norm(kept[pairs[:, 0]] - kept[pairs[:, 1]], axis=1)
    assert np.all(kept_apart <= apart + 1e-3)  # a projection never parts pixels further
    assert np.allclose(kept_apart, apart, atol=1.5)  # rounding to 8 bits is all that is lost
