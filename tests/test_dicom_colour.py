"""DICOM files beyond the plain grey Part 10 file: PALETTE COLOR (colour Doppler, nuclear
medicine maps) read through its lookup table; a file without the 128-byte preamble (older
ACR-NEMA style exports, some anonymisers) read as DICOM all the same."""

from __future__ import annotations

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
from tests.test_dicom import ramp, write_dicom  # noqa: E402
from unet.common.imageio import image_header, open_image  # noqa: E402
from unet.common.pixels import pixels  # noqa: E402

LUT = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])  # index -> (r, g, b)


def write_palette(path, index: np.ndarray, bits: int = 8, words: bool = False) -> None:
    """A PALETTE COLOR file of 8-bit `index` with LUT's colours as `bits`-bit entries; `words`:
    8-bit entries each in a 16-bit word, as the standard notes some implementations write."""
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
            entries.astype(np.uint16 if bits == 16 or words else np.uint8).tobytes())
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("bits,words", [(8, False), (16, False), (8, True)])
def test_palette_color_read_as_rgb(tmp_path, bits, words):
    """Its stored values are indices into the file's colour table, not grey levels: they
    were read as grey 0..3 (mode L), a colour ultrasound trained on as faint grey. 8-bit
    entries in 16-bit words (the descriptor says 8) were shifted as 16-bit ones: all black."""
    index = np.arange(12 * 16).reshape(12, 16) % 4
    write_palette(tmp_path / "us.dcm", index, bits, words)
    im = open_image(tmp_path / "us.dcm")
    assert im.mode == "RGB" and image_header(tmp_path / "us.dcm") == ("RGB", (16, 12))
    np.testing.assert_array_equal(pixels(im), LUT[index])


def test_file_without_preamble_read_as_dicom(tmp_path):
    """The data set alone, no 'DICM' preamble nor file meta (implicit VR little endian, the
    old default): it went to PIL, 'cannot identify image file', and the advice to remove it."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    write_dicom(tmp_path / "ct.dcm", ramp(), intercept=-1024)
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = True, True
    write_dataset(fp, pydicom.dcmread(tmp_path / "ct.dcm"))
    (tmp_path / "bare.dcm").write_bytes(fp.getvalue())
    im = open_image(tmp_path / "bare.dcm")
    np.testing.assert_array_equal(pixels(im), ramp().astype(np.int32) - 1024)
    assert image_header(tmp_path / "bare.dcm") == (im.mode, (16, 12))


def test_an_8_bit_colour_dicom_is_no_wide_image(tmp_path):
    """A colour ultrasound DICOM's pixels are 8-bit RGB: taken for 16-bit (PIL cannot open a
    DICOM, so it was 'misread'), a data set of such files and PNGs was named as mixing depths,
    and an 8-bit export given to a model of 16-bit images went unnamed."""
    from PIL import Image

    from unet.cache.intensity import wider_than_8_bits

    write_palette(tmp_path / "us.dcm", np.arange(12 * 16).reshape(12, 16) % 4)
    assert not wider_than_8_bits(tmp_path / "us.dcm")
    Image.fromarray(np.zeros((12, 16, 3), np.uint8)).save(tmp_path / "us.png")
    assert wider_than_8_bits(tmp_path / "us.dcm") == wider_than_8_bits(tmp_path / "us.png")
