"""ImageJ hyperstacks (a microscope's z-stack, or a time-lapse): refused with the fix for what
their pages are, not as a stack of images to unstack. Channels alone (nucleus and membrane saved
as pages) are one image's bands: test_hyperstack_bands.py."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet.common.imageio import ImageReadError, image_size, read_image
from unet.common.maskio import read_mask

READERS = (read_image, image_size, read_mask)


def _imagej(path, axes: str, n: int) -> None:
    pages = np.random.default_rng(0).integers(200, 4000, (n, 6, 9)).astype(np.uint16)
    tifffile.imwrite(path, pages, imagej=True, metadata={"axes": axes})


@pytest.mark.parametrize("read", READERS)
def test_a_z_stack_names_its_slices_and_the_plane_to_save(tmp_path, read):
    _imagej(tmp_path / "cell.tif", "ZYX", 3)
    with pytest.raises(ImageReadError) as err:
        read(tmp_path / "cell.tif")
    text = str(err.value)
    assert "cell.tif" in text and "z-stack of 3 slices" in text and "Z Project" in text
    assert "pair by name" not in text  # unstacking makes 3 images for one 2D mask


@pytest.mark.parametrize("read", READERS)
def test_a_z_stack_of_channels_names_the_slice_and_keeps_the_channels(tmp_path, read):
    # channels alone read as bands (test_hyperstack_bands.py); beside z-slices, still refused
    pages = np.zeros((3, 2, 6, 9), np.uint16)
    tifffile.imwrite(tmp_path / "cell.tif", pages, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(ImageReadError) as err:
        read(tmp_path / "cell.tif")
    text = str(err.value)
    assert "z-stack of 3 slices" in text and "2 channels together" in text
    assert "pair by name" not in text  # each channel is not an image of its own


def test_a_time_lapse_keeps_the_unstack_fix(tmp_path):
    _imagej(tmp_path / "movie.tif", "TYX", 4)  # frames are images: one file each is right
    with pytest.raises(ImageReadError, match=r"4 time frames.*unet unstack"):
        read_image(tmp_path / "movie.tif")


def test_a_mask_of_channels_is_not_sent_to_band_files(tmp_path):
    """A label image saved as an ImageJ hyperstack of 2 channels (one binary mask per class)
    was told to name its channels in dataset.local.band_files, the images' input bands."""
    from unet.common.bad_files import as_mask_error
    from unet.common.maskio import read_mask

    _imagej(tmp_path / "cell_mask.tif", "CYX", 2)
    zc = np.zeros((3, 2, 6, 9), np.uint8)  # z-slices too: its channels are no input bands
    tifffile.imwrite(tmp_path / "z_mask.tif", zc, imagej=True, metadata={"axes": "ZCYX"})
    for name in ("cell_mask.tif", "z_mask.tif"):
        with pytest.raises(ImageReadError) as err:
            read_mask(tmp_path / name)
        text = str(as_mask_error(err.value))
        assert name in text and "2 channels" in text, text
        assert "band_files" not in text and "input channel" not in text, text
        assert "label image" in text and "dataset.local.mask_folders: classes" in text, text
