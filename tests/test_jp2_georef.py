"""A JPEG 2000 file's georeferencing, kept in boxes PIL passes over: a GeoJP2 `uuid` box (a
1x1 GeoTIFF whose tags are the image's) is carried into the stack and the masks' sidecars; a
GMLJP2 `asoc` box (Sentinel-2's) is not read, and the data set or folder is warned, once,
naming the files and the conversion. Before, both left stacks and masks of no place, silently."""

from __future__ import annotations

import io
import logging
import struct

import imagecodecs
import numpy as np
import tifffile
from PIL import Image

from unet.common.georef import georef_of
from unet.common.jp2_boxes import GEOJP2, jp2_georef
from unet.dataset.band_files import stack_bands, stack_folder
from unet.dataset.download import write_manifest
from unet.dataset.layout import layout_from

KEYS = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32632)  # UTM 32N, area
GRID = ((600000.0, 10.0, 0.0, 5000040.0, 0.0, -10.0), "EPSG:32632")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _geojp2() -> bytes:
    """A GeoJP2 box: its uuid, then a 1x1 GeoTIFF of the image's tie point and pixel size."""
    tiff = io.BytesIO()
    tifffile.imwrite(tiff, np.zeros((1, 1), np.uint8), extratags=[
        (33550, "d", 3, (10.0, 10.0, 0.0), True),
        (33922, "d", 6, (0, 0, 0, 600000.0, 5000040.0, 0), True), (34735, "H", 16, KEYS, True)])
    return _box(b"uuid", GEOJP2 + tiff.getvalue())


def _gml() -> bytes:
    """A GMLJP2 box, as Sentinel-2 writes it: an asoc box opened by the label 'gml.data'."""
    xml = _box(b"xml ", b"<gml:FeatureCollection/>")
    inner = _box(b"asoc", _box(b"lbl ", b"gml.root-instance") + xml)
    return _box(b"asoc", _box(b"lbl ", b"gml.data") + inner)


def _jp2(path, arr: np.ndarray, *boxes: bytes):
    """A lossless JPEG 2000 file with `boxes` put before its codestream box."""
    data = imagecodecs.jpeg2k_encode(arr, level=0, codecformat="jp2")
    at = data.index(b"jp2c") - 4
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[:at] + b"".join(boxes) + data[at:])
    return path


def _band(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 10000, (24, 24)).astype(np.uint16)


def test_the_boxes_are_found_and_the_pixels_still_decode(tmp_path):
    path = _jp2(tmp_path / "b.jp2", _band(0), _geojp2(), _gml())
    tiff, gml = jp2_georef(path)
    assert gml and tiff is not None and tiff[:2] in (b"II", b"MM")
    assert np.array_equal(np.asarray(Image.open(path)), _band(0))
    assert jp2_georef(_jp2(tmp_path / "plain.jp2", _band(0))) == (None, False)


def test_a_geojp2_band_places_its_stack_and_its_masks(tmp_path):
    b02 = _jp2(tmp_path / "T32TQM_B02_10m.jp2", _band(0), _geojp2())
    b08 = _jp2(tmp_path / "T32TQM_B08_10m.jp2", _band(1))
    assert georef_of(b02) == GRID  # a .jp2 image's masks get its place as their sidecar
    assert georef_of(stack_bands(([b02, b08], tmp_path / "s.tif"))) == GRID


def _scene(root, *boxes: bytes) -> None:
    """Two Sentinel-2 images, B02 and B08 a .jp2 file each, their labels PNGs."""
    for i in range(2):
        _jp2(root / f"R10m/T{i}_B02_10m.jp2", _band(i), *boxes)
        _jp2(root / f"R10m/T{i}_B08_10m.jp2", _band(i + 5), *boxes)
        (root / "labels").mkdir(exist_ok=True)
        Image.fromarray(np.zeros((24, 24), np.uint8)).save(root / f"labels/T{i}.png")


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_gml_only_bands_are_warned_once_naming_files_and_fix(tmp_path, caplog):
    _scene(tmp_path, _gml())
    settings = {"images": "R10m", "image_suffix": "_B02_10m", "masks": "labels",
                "image_extensions": [".jp2"], "band_files": ["R10m/{id}_B08_10m.jp2"]}
    with caplog.at_level(logging.WARNING):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout_from(settings, "local"))
    said = [w for w in _warnings(caplog) if "GML" in w]
    assert len(said) == 1 and "4 JPEG 2000 file(s)" in said[0]
    assert "T0_B02_10m.jp2" in said[0] and "gdal_translate -of GTiff" in said[0]


def test_unet_stack_warns_of_gml_only_bands_and_not_of_geojp2(tmp_path, caplog):
    _scene(tmp_path, _gml())
    template = [str(tmp_path / "R10m/{id}_B08_10m.jp2")]
    with caplog.at_level(logging.WARNING):
        stack_folder(tmp_path / "R10m", template, tmp_path / "out", suffix="_B02_10m")
    said = [w for w in _warnings(caplog) if "GML" in w]
    assert len(said) == 1 and "T0_B08_10m.jp2, " in said[0] and "and 1 more" in said[0]
    caplog.clear()
    _scene(tmp_path / "g", _geojp2(), _gml())
    with caplog.at_level(logging.WARNING):
        out = stack_folder(tmp_path / "g/R10m", [str(tmp_path / "g/R10m/{id}_B08_10m.jp2")],
                           tmp_path / "g/out", suffix="_B02_10m")
    assert not _warnings(caplog) and georef_of(out[0]) == GRID


def test_a_file_cut_short_in_a_long_box_header_reads_as_of_no_place(tmp_path):
    """A download cut inside a box's 64-bit length (jp2c boxes of large images use it) was
    a bare struct.error naming no file; it reads as of no place, the decode naming it."""
    head = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + _box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ")
    (tmp_path / "a.jp2").write_bytes(head + struct.pack(">I4s", 1, b"jp2c") + b"\x00\x00\x01")
    assert jp2_georef(tmp_path / "a.jp2") == (None, False)
