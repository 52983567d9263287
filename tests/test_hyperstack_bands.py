"""ImageJ and OME hyperstacks of channels alone (axes CYX: nucleus and membrane saved as pages)
read as one image of that many bands, as Cellpose and nnU-Net read them; they were refused with
advice to split the channels into files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict, _write_split
from unet.cache.settings import PreprocessSettings
from unet.common.bands import band_count, crf_image, read_bands
from unet.common.imageio import ImageReadError, image_header, image_size
from unet.common.maskio import read_mask
from unet.report.band_names import shown_image


def _save(path, pages: np.ndarray, kind: str = "imagej", axes: str = "CYX"):
    """`pages` (C, H, W) as an ImageJ hyperstack, an OME-TIFF or tifffile's own shaped TIFF
    (`tifffile.imwrite(path, pages, metadata={"axes": "CYX"})`): a page per channel."""
    kinds = {"imagej": {"imagej": True}, "ome": {"ome": True}, "tifffile": {}}
    tifffile.imwrite(path, pages, **kinds[kind], metadata={"axes": axes})
    return path


# tifffile writes 3 or 4 such channels as one planar RGB(A) page, not a page per channel
@pytest.mark.parametrize(("kind", "channels"), [
    ("imagej", 2), ("imagej", 3), ("imagej", 4), ("ome", 2), ("ome", 3), ("ome", 4),
    ("tifffile", 2)])
def test_a_hyperstack_of_channels_reads_as_its_bands(tmp_path, kind, channels):
    pages = np.zeros((channels, 6, 9), np.uint16)
    pages[0], pages[-1, 2, 3] = 1000, 4000  # the last channel brightest: one range for all
    path = _save(tmp_path / "cell.tif", pages, kind)
    assert band_count(path) == channels
    assert image_size(path) == (9, 6) and image_header(path)[0] == "bands"
    bands = read_bands(path)
    assert bands.shape == (6, 9, channels) and bands[0, 0, 0] == 64 and bands[2, 3, -1] == 255
    assert np.array_equal(crf_image(path), bands)
    assert shown_image(path).shape == (6, 9, 3 if channels >= 3 else 1)


def test_z_slices_or_time_frames_beside_channels_keep_their_refusal(tmp_path):
    path = _save(tmp_path / "zc.tif", np.zeros((3, 2, 6, 9), np.uint16), axes="ZCYX")
    assert band_count(path) == 0
    with pytest.raises(ImageReadError, match=r"zc\.tif .*z-stack of 3 slices.*Z Project"):
        image_size(path)
    path = _save(tmp_path / "tc.tif", np.zeros((4, 2, 6, 9), np.uint16), "ome", axes="TCYX")
    with pytest.raises(ImageReadError, match=r"tc\.tif .*4 time frames"):
        crf_image(path)


def test_pages_without_axes_are_refused_with_the_channels_fix_too(tmp_path):
    # tifffile.imwrite(path, np.stack([cyto, nucleus])), as a Python user saves two channels:
    # no axes say whether the pages are slices or channels; the refusal offered only
    # `unet unstack`, which makes each channel an image of its own, without a mask.
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, np.zeros((2, 6, 9), np.uint16))
    assert band_count(path) == 0
    with pytest.raises(ImageReadError, match=r"cells\.tif holds 2 pages.*unet unstack.*if the "
                       r"pages are one image's channels.*metadata=\{'axes': 'CYX'\}"):
        image_size(path)


def test_height_width_channels_arrays_read_with_axes_and_are_told_them_without(tmp_path):
    # tifffile.imwrite of an (H, W, C) array writes each row as a page C pixels wide: told to
    # save it with axes 'CYX', the user's (H, W, C) array would be read as H channels.
    cells = np.zeros((6, 9, 2), np.uint16)
    cells[2, 3, 1] = 4000
    tifffile.imwrite(tmp_path / "yxc.tif", cells, metadata={"axes": "YXC"})
    assert band_count(tmp_path / "yxc.tif") == 2 and image_size(tmp_path / "yxc.tif") == (9, 6)
    assert read_bands(tmp_path / "yxc.tif")[2, 3, 1] == 255
    tifffile.imwrite(tmp_path / "rows.tif", cells)
    with pytest.raises(ImageReadError, match=r"rows\.tif holds 6 pages.*each row of an \(H, W, "
                       r"C\) array.*metadata=\{'axes': 'YXC'\}"):
        image_size(tmp_path / "rows.tif")


def test_a_hyperstack_given_as_a_mask_is_refused_naming_it(tmp_path):
    path = _save(tmp_path / "m.tif", np.zeros((2, 6, 9), np.uint8))
    with pytest.raises(ImageReadError, match=r"m\.tif .*2 channels.*a mask is one 2D label image"):
        read_mask(path)


def _cells(root, channels: int, n: int = 8) -> None:
    """16-bit hyperstacks whose discs only the last channel (the membrane) shows."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        disc = _disc(i) > 0.5
        pages = rng.integers(900, 1100, (channels, H, W)).astype(np.uint16)
        pages[-1][disc] = 3000
        path = _save(root / f"img{i}.tif", pages, "imagej" if i % 2 else "ome")
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / f"msk{i}.png")
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"msk{i}.png"),
                      "size": [W, H]})
    _write_split(root, pairs)


@pytest.mark.parametrize("channels", [2, 3])
def test_a_hyperstack_data_set_trains_and_predicts_on_every_channel(tmp_path, channels):
    from unet.cache.reader import load_split
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    _cells(tmp_path, channels)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == channels and meta["intensity_range"] == [0.0, 3000.0]
    images = load_split(tmp_path / "cache", "train")[0]
    assert images.shape[1:] == (H, W, channels) and images[..., -1].max() == 255
    assert images[..., 0].max() <= 100  # scaled by the data set's range, not its own
    masks = _train_and_predict(tmp_path)
    new = [tmp_path / "img6.tif", tmp_path / "img7.tif"]
    out = tmp_path / "new"
    assert predict_files([tmp_path / "model.pt"], new, out, PredictSettings(device="cpu")) == 2
    assert np.array_equal(np.asarray(Image.open(out / "img6.png")),
                          np.asarray(Image.open(masks / "p6.png")))


def test_hyperstacks_of_other_channel_counts_are_refused_naming_them(tmp_path):
    _cells(tmp_path, 2)
    _save(tmp_path / "img3.tif", np.zeros((3, H, W), np.uint16))
    with pytest.raises(ValueError, match=r"img0\.tif has 2 bands but .*img3\.tif has 3"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))


def test_a_3_channel_hyperstack_beside_colour_images_is_told_why_3_is_not_3(tmp_path):
    # 'a.png has grey or colour (1 or 3) bands but h.tif has 3': three beside three, and the
    # fix (the same bands) gave no way out for a hyperstack whose channels are red, green, blue
    from unet.cache.channel_count import data_channels as _channels

    for n in "ab":
        Image.fromarray(np.full((H, W, 3), (9, 90, 200), np.uint8)).save(tmp_path / f"{n}.png")
    _save(tmp_path / "h.tif", np.zeros((3, H, W), np.uint16))
    with pytest.raises(ValueError) as err:
        _channels([{"image": str(tmp_path / n)} for n in ("a.png", "b.png", "h.tif")])
    said = " ".join(str(err.value).split())
    assert "h.tif has 3 (an ImageJ/OME hyperstack's channels: bands, not colour)" in said, said
    assert "Image > Color > Stack to RGB" in said, said
