"""DICOM files read as a viewer shows them beyond plain grey: PALETTE COLOR (colour Doppler,
nuclear medicine maps) through its lookup table."""

from __future__ import annotations

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
from tests.test_dicom import write_dicom  # noqa: E402
from unet.common.imageio import image_header, open_image  # noqa: E402
from unet.common.pixels import pixels  # noqa: E402

LUT = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])  # index -> (r, g, b)


def write_palette(path, index: np.ndarray, bits: int = 8) -> None:
    """A PALETTE COLOR file of 8-bit `index` with LUT's colours as `bits`-bit entries."""
    write_dicom(path, index, photometric="PALETTE COLOR")
    ds = pydicom.dcmread(path)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    del ds.RescaleSlope, ds.RescaleIntercept
    ds.PixelData = index.astype(np.uint8).tobytes()
    for i, colour in enumerate(("Red", "Green", "Blue")):
        ds[f"{colour}PaletteColorLookupTableDescriptor"] = pydicom.DataElement(
            f"{colour}PaletteColorLookupTableDescriptor", "US", [len(LUT), 0, bits])
        entries = LUT[:, i] * (257 if bits == 16 else 1)  # 16 bits: 255 -> 65535
        ds[f"{colour}PaletteColorLookupTableData"] = pydicom.DataElement(
            f"{colour}PaletteColorLookupTableData", "OW",
            entries.astype(np.uint16 if bits == 16 else np.uint8).tobytes())
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("bits", [8, 16])
def test_palette_color_read_as_rgb(tmp_path, bits):
    """Its stored values are indices into the file's colour table, not grey levels: they
    were read as grey 0..3 (mode L), a colour ultrasound trained on as faint grey."""
    index = np.arange(12 * 16).reshape(12, 16) % 4
    write_palette(tmp_path / "us.dcm", index, bits)
    im = open_image(tmp_path / "us.dcm")
    assert im.mode == "RGB" and image_header(tmp_path / "us.dcm") == ("RGB", (16, 12))
    np.testing.assert_array_equal(pixels(im), LUT[index])
