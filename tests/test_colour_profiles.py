"""Images whose colours depend on an embedded ICC profile (a printer's CMYK JPEG or TIFF)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from unet.common.imageio import read_image


def _tag(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)  # tags start on 4-byte boundaries


def cmyk_profile() -> bytes:
    """A minimal ICC v2 CMYK output profile (an 8-bit A2B0 lut to Lab) whose colours differ
    from PIL's naive formula, as a press profile's do (SWOP's 100 % cyan is not (0, 255, 255))."""
    clut = bytearray()
    for c in (0, 1):  # first input slowest, as ICC orders the grid
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    light = (1 - 0.85 * k) * (1 - 0.2 * (c + m + y))
                    a, b = 30 * m - 25 * c, 45 * y - 30 * c - 10 * m
                    clut += bytes([round(255 * light), 128 + round(a), 128 + round(b)])
    ramp = bytes(range(256))
    lut = (b"mft1" + b"\0" * 4 + bytes([4, 3, 2, 0])
           + b"".join(struct.pack(">i", v) for v in (65536, 0, 0, 0, 65536, 0, 0, 0, 65536))
           + ramp * 4 + bytes(clut) + ramp * 3)
    name = b"test CMYK\0"
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(name)) + name + b"\0" * 8
            + b"\0" * 3 + b"\0" * 67)
    wtpt = b"XYZ " + b"\0" * 4 + struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D)
    tags = [(b"desc", _tag(desc)), (b"wtpt", _tag(wtpt)), (b"A2B0", _tag(lut))]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for sig, data in tags:
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"prtrCMYKLab "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)
              + struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + body


@pytest.mark.parametrize("ext", ["jpg", "tif"])
def test_cmyk_with_profile_reads_as_a_colour_managed_viewer_shows_it(tmp_path, ext):
    ink = np.zeros((8, 8, 4), np.uint8)
    ink[:, :4, 0] = 255  # cyan on the left, magenta and yellow (red) on the right
    ink[:, 4:, 1:3] = 255
    im, profile = Image.fromarray(ink, mode="CMYK"), cmyk_profile()
    path = tmp_path / f"press.{ext}"
    im.save(path, icc_profile=profile, **({"quality": 100} if ext == "jpg" else {}))
    with Image.open(path) as saved:
        shown = np.asarray(ImageCms.profileToProfile(
            saved, ImageCms.ImageCmsProfile(__import__("io").BytesIO(profile)),
            ImageCms.createProfile("sRGB"), outputMode="RGB"))
        naive = np.asarray(saved.convert("RGB"))
    assert np.abs(shown.astype(int) - naive).max() > 40  # the profile matters here
    got = read_image(path)
    assert got.shape == (8, 8, 3)
    assert np.abs(got.astype(int) - shown).max() <= 1


def test_turned_cmyk_jpeg_keeps_its_profile_through_the_model_input(tmp_path):
    """EXIF orientation and the JPEG draft decode must not drop the profile on the way to the
    model (predict's path: open_image, then resize_image)."""
    from unet.cache.preprocess import resize_image
    from unet.common.imageio import open_image

    ink = np.zeros((4, 8, 4), np.uint8)
    ink[..., 0] = 255  # all cyan
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned: 4 wide, 8 high
    path, profile = tmp_path / "turned.jpg", cmyk_profile()
    Image.fromarray(ink, mode="CMYK").save(path, icc_profile=profile, exif=exif, quality=100)
    got = resize_image(open_image(path, draft_to=(4, 8)), (4, 8), 3)
    assert got.shape == (8, 4, 3)
    assert abs(int(got[0, 0, 0]) - 96) <= 2  # the profile's cyan, not PIL's (0, 255, 255)
