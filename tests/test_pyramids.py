"""Whole-slide pyramids (QuPath, libvips, OpenSlide exports): a TIFF whose later pages are
marked as reduced-resolution copies of its first reads as that first page, the full
resolution; pages of other sizes that the file does not mark so stay refused (test_stacks)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet.common.decoders import read_wide, wide_header
from unet.common.imageio import image_size, read_image
from unet.common.maskio import read_mask


def _slide(path, data: np.ndarray, compression: str | None, planar: bool = False) -> None:
    """A 2-level tiled BigTIFF pyramid, the reduced level a page marked as such (subfiletype
    1), as libvips' `tiffsave --pyramid` and tifffile write them."""
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        for level, kind in ((data, 0), (data[::2, ::2], 1)):
            level = np.moveaxis(level, -1, 0) if planar else level
            tif.write(level, tile=(16, 16), compression=compression, photometric="rgb",
                      planarconfig="separate" if planar else None, subfiletype=kind)


def _tissue(h: int = 48, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), np.uint8)


@pytest.mark.parametrize("planar", [False, True])  # planar: only tifffile reads it
def test_a_pyramid_reads_as_its_full_resolution_page(tmp_path, planar):
    # It was refused as a file of 3 pages, sending a pathologist to `unet unstack` each slide.
    data = _tissue()
    _slide(tmp_path / "slide.tif", data, "zlib", planar)
    assert image_size(tmp_path / "slide.tif") == (64, 48)
    assert np.array_equal(read_image(tmp_path / "slide.tif"), data)
    assert wide_header(tmp_path / "slide.tif")[0] == (48, 64, 3)
    assert np.array_equal(read_wide(tmp_path / "slide.tif"), data)


def test_a_jpeg_tiled_pyramid_reads_its_full_resolution_in_colour(tmp_path):
    # QuPath's and OpenSlide's exports are JPEG-compressed tiles: lossy, so near, not equal.
    data = np.zeros((48, 64, 3), np.uint8)
    data[:, :32] = (230, 150, 190)  # stroma pink
    data[:, 32:] = (120, 60, 150)   # tumour purple
    _slide(tmp_path / "slide.tif", data, "jpeg")
    got = read_image(tmp_path / "slide.tif").astype(int)
    assert got.shape == (48, 64, 3)
    assert np.abs(got[4:-4, 4:28] - (230, 150, 190)).max() <= 8
    assert np.abs(got[4:-4, 36:-4] - (120, 60, 150)).max() <= 8


def test_a_pyramid_mask_reads_its_full_resolution_labels(tmp_path):
    labels = np.zeros((48, 64), np.uint8)
    labels[10:30, 5:40] = 1
    labels[30:, 40:] = 2
    with tifffile.TiffWriter(tmp_path / "slide.tif") as tif:
        tif.write(labels, tile=(16, 16), compression="zlib")
        tif.write(labels[::4, ::4], tile=(16, 16), compression="zlib", subfiletype=1)
    assert np.array_equal(read_mask(tmp_path / "slide.tif"), labels)


def test_an_svs_reads_its_baseline_not_its_thumbnail_label_or_macro(tmp_path):
    # Aperio's layout: baseline, a strip thumbnail, reduced levels, then label and macro.
    data, head = _tissue(), "Aperio Image Library v12.0.15 \n"
    path, kw = tmp_path / "slide.svs", {"photometric": "rgb", "metadata": None}
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(16, 16), description=head + "64x48 (16x16) |AppMag = 20", **kw)
        tif.write(data[::4, ::4], description=head + "64x48 -> 16x12 - ", **kw)
        tif.write(data[::2, ::2], tile=(16, 16), description=head + "64x48 -> 32x24 - ", **kw)
        tif.write(data[:10, :20], subfiletype=1, description=head + "label 20x10", **kw)
        tif.write(data[:12, :30], subfiletype=9, description=head + "macro 30x12", **kw)
    assert image_size(path) == (64, 48)
    assert np.array_equal(read_image(path), data)
    assert np.array_equal(read_wide(path), data)
