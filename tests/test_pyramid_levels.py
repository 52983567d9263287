"""A whole-slide pyramid cached or predicted at a downscale (preprocess.scale, mode resize)
decodes the smallest level at least that size, not the full resolution: a 40x slide's level 0
is gigabytes. Where that level is level 0 the result is what it was."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet.cache.preprocess import load_pair, resize_image
from unet.common.imageio import open_image
from unet.common.labels import MaskMapping
from unet.common.pixels import pixels


def _levels(h: int = 96, w: int = 128) -> list[np.ndarray]:
    """Levels of falling size whose pixels tell them apart (each its own grey offset)."""
    rng = np.random.default_rng(1)
    return [(rng.integers(0, 200, (h >> k, w >> k, 3)) + 20 * k).astype(np.uint8)
            for k in range(3)]


def _pyramid(path, levels: list[np.ndarray], subifds: bool, compression="zlib") -> None:
    """Reduced levels as SubIFDs of the first page (OME-TIFF, QuPath) or as pages marked
    reduced-resolution (libvips), as tifffile writes either."""
    kw = {"tile": (16, 16), "compression": compression, "photometric": "rgb"}
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(levels[0], subifds=len(levels) - 1 if subifds else None, **kw)
        for level in levels[1:]:
            tif.write(level, subfiletype=1, **kw)


@pytest.mark.parametrize("subifds", [False, True])
@pytest.mark.parametrize(("want", "level"), [((32, 24), 2), ((30, 20), 2), ((40, 24), 1),
                                             ((64, 48), 1), ((65, 48), 0), ((128, 96), 0)])
def test_the_smallest_level_at_least_the_target_is_decoded(tmp_path, subifds, want, level):
    levels = _levels()
    _pyramid(tmp_path / "slide.tif", levels, subifds)
    got = pixels(open_image(tmp_path / "slide.tif", draft_to=want))
    assert np.array_equal(got, levels[level])


@pytest.mark.parametrize("subifds", [False, True])
def test_where_level_0_is_needed_the_result_is_as_before(tmp_path, subifds):
    levels = _levels()
    _pyramid(tmp_path / "slide.tif", levels, subifds, "jpeg")  # PIL's decode, as before
    full = open_image(tmp_path / "slide.tif")
    near = open_image(tmp_path / "slide.tif", draft_to=(100, 80))
    assert np.array_equal(pixels(near), pixels(full))
    assert np.array_equal(resize_image(near, (100, 80), 3), resize_image(full, (100, 80), 3))


def test_a_pyramid_cached_at_a_quarter_reads_its_quarter_level_and_full_mask(tmp_path):
    # preprocess.scale 0.25 on a slide decoded level 0 (a 50k x 40k slide: 6 GB) to shrink it.
    levels = _levels()
    _pyramid(tmp_path / "slide.tif", levels, subifds=True)
    mask = np.zeros((96, 128), np.uint8)
    mask[:, 64:] = 255
    tifffile.imwrite(tmp_path / "mask.tif", mask)
    pair = {"image": str(tmp_path / "slide.tif"), "mask": str(tmp_path / "mask.tif"),
            "size": [128, 96]}
    cached, index = load_pair((pair, (32, 24), 3, MaskMapping((0, 255)), None))
    assert np.array_equal(cached, levels[2])
    assert index.shape == (24, 32) and index[:, :16].max() == 0 and index[:, 16:].min() == 1


def test_an_svs_thumbnail_label_or_macro_is_no_level_to_read(tmp_path):
    # Aperio's strip thumbnail (the second page) is smaller than any level, but no level.
    levels, head = _levels(), "Aperio Image Library v12.0.15 \n"
    kw = {"photometric": "rgb", "metadata": None}
    with tifffile.TiffWriter(tmp_path / "slide.svs") as tif:
        tif.write(levels[0], tile=(16, 16), description=head + "128x96 (16x16) |AppMag = 40", **kw)
        tif.write(levels[2][::2, ::2], description=head + "128x96 -> 16x12 - ", **kw)
        tif.write(levels[1], tile=(16, 16), description=head + "128x96 -> 64x48 - ", **kw)
        tif.write(levels[2][:10, :20], subfiletype=1, description=head + "label 20x10", **kw)
    assert np.array_equal(pixels(open_image(tmp_path / "slide.svs", draft_to=(16, 12))), levels[1])
    assert np.array_equal(pixels(open_image(tmp_path / "slide.svs", draft_to=(65, 48))), levels[0])


def test_a_slide_over_the_size_limit_is_told_the_level_that_fits(tmp_path, monkeypatch):
    # A 40x slide over the one-file limit was told to be cut into tiles "and its mask into the
    # same tiles", which a QuPath GeoJSON in full-resolution coordinates cannot follow.
    import unet.common.imageio as imageio

    _pyramid(tmp_path / "slide.tif", _levels(), subifds=True, compression="jpeg")
    monkeypatch.setattr(imageio, "MAX_PIXELS", 5000)  # level 0 (128x96) over, level 1 within
    with pytest.raises(imageio.ImageReadError, match=r"slide\.tif is 128x96") as err:
        imageio.image_size(tmp_path / "slide.tif")
    assert "level 1 (64x48, downsample 2)" in str(err.value)
    assert "labelled-image export at downsample 2" in str(err.value)
    assert "tiles" not in str(err.value)
    tifffile.imwrite(tmp_path / "flat.tif", _levels()[0], photometric="rgb")  # no pyramid
    with pytest.raises(imageio.ImageReadError, match=r"flat\.tif is 128x96.*tiles"):
        imageio.image_size(tmp_path / "flat.tif")


def test_a_level_floored_from_an_odd_width_is_still_the_scaled_size(tmp_path):
    # Scanners floor each level (Aperio's 46000x32914 -> 11500x8228), while scale 0.25 rounds:
    # a 6003-wide slide wants 1501 px, its 4x level holds 1500 (1500.75 exactly), and level 0
    # (16x the pixels) was decoded. Here the 2x level (65 wide) was decoded for a 0.25.
    levels = _levels(96, 131)  # levels 131, 65, 32 wide (floored)
    _pyramid(tmp_path / "slide.tif", levels, subifds=True)
    got = pixels(open_image(tmp_path / "slide.tif", draft_to=(33, 24)))
    assert np.array_equal(got, levels[2])
