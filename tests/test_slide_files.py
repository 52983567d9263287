"""Whole-slide files by extension: Aperio's .svs (a TIFF pyramid tifffile reads) is an image
extension by default; vendor formats the pipeline does not read as one image (Hamamatsu .ndpi,
Leica .scn, MIRAX .mrxs, ...) are named with the conversion that makes them readable."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet.common.imageio import ImageReadError, image_size, read_image
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files
from unet.infer.predict_folder import list_images


def _svs(path, data: np.ndarray) -> None:
    """An Aperio-like SVS: baseline, strip thumbnail, reduced level, label, macro."""
    head, kw = "Aperio Image Library v12.0.15 \n", {"photometric": "rgb", "metadata": None}
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(16, 16), description=head + "64x48 (16x16) |AppMag = 20", **kw)
        tif.write(data[::4, ::4], description=head + "64x48 -> 16x12 - ", **kw)
        tif.write(data[::2, ::2], tile=(16, 16), description=head + "64x48 -> 32x24 - ", **kw)
        tif.write(data[:10, :20], subfiletype=1, description=head + "label 20x10", **kw)


def _tissue() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)


def test_a_folder_of_svs_slides_is_predicted_by_default(tmp_path):
    # `unet predict slides/` on Aperio scans said "no images (.png, .jpg, ...) in slides".
    _svs(tmp_path / "case1.svs", _tissue())
    assert list_images(tmp_path) == [tmp_path / "case1.svs"]


def test_svs_slides_pair_with_their_masks_by_default(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    _svs(tmp_path / "images" / "case1.svs", _tissue())
    tifffile.imwrite(tmp_path / "masks" / "case1.tif", np.zeros((48, 64), np.uint8))
    pairs = pair_files(tmp_path, Layout())
    assert [(i, p.name) for i, p, _ in pairs] == [("case1", "case1.svs")]
    assert image_size(pairs[0][1]) == (64, 48)
    assert np.array_equal(read_image(pairs[0][1]), _tissue())


@pytest.mark.parametrize("ext", [".ndpi", ".scn", ".mrxs"])
def test_a_folder_of_other_slide_formats_names_the_conversion(tmp_path, ext):
    # A folder of Hamamatsu scans said only "holds .ndpi: 2", as if any extension were alike.
    for name in ("a", "b"):
        (tmp_path / f"{name}{ext}").write_bytes(b"II*\0" + bytes(60))
    with pytest.raises(FileNotFoundError, match=rf"{ext}: 2.*whole-slide.*vips tiffsave"):
        list_images(tmp_path)
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "a.png").write_bytes(b"")
    layout = Layout(images=".", masks="masks")
    with pytest.raises(DataLayoutError, match=rf"{ext}: 2.*whole-slide.*vips tiffsave"):
        pair_files(tmp_path, layout)


def test_an_ndpi_named_in_the_extensions_is_refused_with_the_conversion(tmp_path):
    # Listed by the user, it was read through PIL's TIFF reader, which knows neither NDPI's
    # 64-bit offsets nor its oversized JPEG levels.
    path = tmp_path / "slide.ndpi"
    tifffile.imwrite(path, _tissue(), photometric="rgb")
    with pytest.raises(ImageReadError, match=r"slide\.ndpi.*Hamamatsu.*vips tiffsave"):
        read_image(path)
    with pytest.raises(ImageReadError, match=r"slide\.ndpi.*Hamamatsu"):
        image_size(path)
