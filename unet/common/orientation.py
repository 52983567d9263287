"""An image's EXIF Orientation from its header, without decoding its pixels."""

from __future__ import annotations

import os
import struct

from PIL import Image


def header_orientation(im: Image.Image, path: str | os.PathLike) -> int:
    """An opened image's EXIF Orientation (1 when none), without decoding it: PIL's PNG
    getexif decodes the whole file when the header holds no eXIf chunk, so a PNG's chunks are
    walked for it instead (their data skipped)."""
    if im.format == "PNG" and "exif" not in im.info:
        found = _png_exif(path)
        if isinstance(found, bytes):
            exif = Image.Exif()
            exif.load(found)
            return int(exif.get(0x0112, 1))
        if found is None:
            return 1
    return int(im.getexif().get(0x0112, 1))  # EXIF in a text chunk: PIL's way


_TEXT_EXIF = b"Raw profile type exif\0"  # ImageMagick's EXIF in a tEXt/zTXt/iTXt chunk


def _png_exif(path: str | os.PathLike) -> bytes | bool | None:
    """The data of a PNG's eXIf chunk, wherever it lies; True when its EXIF is in a text
    chunk instead; None when it has none."""
    with open(path, "rb") as f:
        f.seek(8)  # the signature
        while len(head := f.read(8)) == 8:
            length, kind = struct.unpack(">I4s", head)
            if kind == b"eXIf":
                return f.read(length)
            if kind == b"IEND":
                break
            if kind in (b"tEXt", b"zTXt", b"iTXt") and length >= len(_TEXT_EXIF):
                if f.read(len(_TEXT_EXIF)) == _TEXT_EXIF:
                    return True
                f.seek(-len(_TEXT_EXIF), os.SEEK_CUR)
            f.seek(length + 4, os.SEEK_CUR)  # data and CRC
    return None
