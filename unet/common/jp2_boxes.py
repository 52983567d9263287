"""The georeferencing a JPEG 2000 file keeps in boxes beside its pixels, found from the box
headers alone (seeks, not the codestream): GeoJP2, a `uuid` box holding a 1x1 GeoTIFF whose
tags are the image's, and GMLJP2, an `asoc` box of GML, as Sentinel-2 keeps its tile's place.
PIL's decoder passes over both, so a .jp2 band or image gave stacks and masks of no place."""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"  # the first box of every JP2 file
GEOJP2 = bytes.fromhex("b14bf8bd083d4b43a5ae8cd7d5a6ce03")  # the GeoJP2 uuid
GML_LABEL = b"gml.data"  # the label box opening a GMLJP2 asoc box
JP2 = (".jp2", ".jpx", ".jpf")  # names of files of boxes (.j2k: a bare codestream)
FIX = "gdal_translate -of GTiff B02.jp2 B02.tif"
log = logging.getLogger(__name__)


def _boxes(f: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """The top-level boxes of a JP2 file: (type, payload offset, payload length)."""
    f.seek(0, os.SEEK_END)
    end, at = f.tell(), 0
    while at + 8 <= end:
        f.seek(at)
        size, kind = struct.unpack(">I4s", f.read(8))
        head = 8
        if size == 1:  # a 64-bit length follows the type
            if at + 16 > end:  # cut short inside it: what follows cannot be found
                return
            size, head = struct.unpack(">Q", f.read(8))[0], 16
        elif size == 0:  # the last box runs to the end of the file
            size = end - at
        if size < head:  # a damaged header: what follows cannot be found
            return
        yield kind, at + head, size - head
        at += size


def is_jp2(path: str | os.PathLike) -> bool:
    """Whether a file starts with the JP2 signature box (a bare .j2k codestream has no boxes)."""
    with open(path, "rb") as f:
        return f.read(12) == SIGNATURE


def jp2_georef(path: str | os.PathLike) -> tuple[bytes | None, bool]:
    """A JP2 file's GeoJP2 GeoTIFF (the bytes of its 1x1 TIFF, or None) and whether it holds a
    GMLJP2 box; (None, False) for a file of no boxes."""
    if not is_jp2(path):
        return None, False
    tiff, gml = None, False
    with open(path, "rb") as f:
        for kind, at, length in _boxes(f):
            if kind == b"uuid" and length > 16 and tiff is None:
                f.seek(at)
                if f.read(16) == GEOJP2:
                    tiff = f.read(length - 16)
            elif kind == b"asoc" and length >= 8 + len(GML_LABEL):
                f.seek(at)
                sub = f.read(8 + len(GML_LABEL))  # its first box: the label 'gml.data'
                gml |= sub[4:8] == b"lbl " and sub[8:] == GML_LABEL
    return tiff, gml


def warn_unplaced(paths: Iterable[str | os.PathLike], where: str) -> list[str]:
    """Warn once for `where` (a data set, a folder) about its .jp2 files whose place is kept as
    GMLJP2 alone, which is not read (a GeoJP2 box is: its tags are carried), so that their
    stacks and masks carry no georeferencing; the files named, returned."""
    named = sorted({str(p) for p in paths if Path(p).suffix.lower() in JP2})
    lost = [p for p in named if jp2_georef(p) == (None, True)]
    if lost:
        shown = ", ".join(lost[:3]) + (f" and {len(lost) - 3} more" if len(lost) > 3 else "")
        log.warning("%s: %d JPEG 2000 file(s) keep their georeferencing as GML (GMLJP2), which "
                    "is not read, so their stacks and masks carry none: %s; convert each to a "
                    "GeoTIFF first (%s) and name the .tif files", where, len(lost), shown, FIX)
    return lost
