"""16-bit grey with an alpha channel (a PNG of colour type 4, a TIFF of two samples whose
second is alpha), as GIMP, Fiji and many microscope tools save it: read as the 16-bit grey
image it holds, alpha left out, as 8-bit grey with alpha (LA) is."""

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.common.imageio import GREY16, image_header, read_image

GREY = np.array([[0, 1000], [2000, 4095]], np.uint16)  # a 12-bit camera


def _write(path, fmt: str) -> None:
    arr = np.dstack([GREY, np.full_like(GREY, 65535)])  # (H, W, 2): grey, opaque alpha
    if fmt == "png":
        path.write_bytes(imagecodecs.png_encode(arr))
    else:
        tifffile.imwrite(path, arr, photometric="minisblack", extrasamples=["unassalpha"])


@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_sixteen_bit_grey_with_alpha_reads_as_its_grey(tmp_path, fmt):
    path = tmp_path / f"la16.{fmt}"
    _write(path, fmt)
    Image.fromarray(GREY).save(tmp_path / "plain.png")  # the same grey, no alpha
    out = read_image(path, (0, 4095))
    assert out.shape == (2, 2, 1)
    assert np.array_equal(out, read_image(tmp_path / "plain.png", (0, 4095)))
    assert out[..., 0].tolist() == [[0, 62], [125, 255]]
    assert image_header(path) == (image_header(tmp_path / "plain.png")[0], (2, 2))
    assert image_header(path)[0] in GREY16
