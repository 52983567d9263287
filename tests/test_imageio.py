"""Image modes the data sets use, EXIF orientation, and mask PNG round trips."""

import numpy as np
import pytest
from PIL import Image

from unet.common.imageio import ImageReadError, image_size, read_image
from unet.common.maskio import read_mask, write_mask_png


def test_sixteen_bit_grey_is_scaled_to_eight_bits(tmp_path):
    arr = np.array([[0, 1000], [2000, 4000]], np.uint16)
    Image.fromarray(arr).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.shape == (2, 2, 1) and out.dtype == np.uint8
    assert out[1, 1, 0] == 255 and out[0, 0, 0] == 0


@pytest.mark.parametrize(("mode", "channels"), [("L", 1), ("LA", 1), ("RGB", 3), ("RGBA", 3),
                                                ("P", 3)])
def test_modes(tmp_path, mode, channels):
    Image.new(mode, (5, 4)).save(tmp_path / "a.png")
    assert read_image(tmp_path / "a.png").shape == (4, 5, channels)


def test_exif_orientation_is_honoured(tmp_path):
    im = Image.new("RGB", (30, 20))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees: a 30x20 sensor image is shown 20x30
    im.save(tmp_path / "a.jpg", exif=exif)
    assert image_size(tmp_path / "a.jpg") == (20, 30)
    assert read_image(tmp_path / "a.jpg").shape == (30, 20, 3)


@pytest.mark.parametrize(("values", "rgb"), [((0, 255), False), ((0, 1000, 40000), False),
                                             ((0, 0xFF0000, 0x0000FF), True)])
def test_mask_png_round_trip(tmp_path, values, rgb):
    mask = np.resize(np.array(values, np.uint32), 12).reshape(3, 4)
    write_mask_png(tmp_path / "m.png", mask, rgb=rgb)
    assert np.array_equal(read_mask(tmp_path / "m.png", colour=rgb), mask)


def test_float_tiff_in_unit_range_reads_as_grey(tmp_path):
    # Microscopy and remote-sensing tools write 32-bit float TIFFs with grey values in [0, 1];
    # PIL's own convert("RGB") truncates them to 0 and 1, a black picture of three channels.
    arr = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    Image.fromarray(arr).save(tmp_path / "a.tif")
    out = read_image(tmp_path / "a.tif")
    assert out.shape == (2, 2, 1) and out.dtype == np.uint8
    assert out[..., 0].tolist() == [[0, 64], [128, 255]]


@pytest.mark.parametrize(("arr", "expected"), [
    (np.array([[0.0, 1000.0], [2000.0, 4000.0]], np.float32), [[0, 64], [128, 255]]),
    (np.array([[-1.0, 0.0], [0.5, 1.0]], np.float32), [[0, 128], [191, 255]]),
    (np.array([[-100, 0], [100, 300]], np.int32), [[0, 64], [128, 255]]),
    (np.array([[np.nan, 0.0], [0.5, 1.0]], np.float32), [[0, 0], [128, 255]]),
])
def test_wide_grey_ranges_are_scaled_into_eight_bits(tmp_path, arr, expected):
    # Floats beyond [0, 1] and signed 32-bit integers span their own range; nothing wraps
    # around (a negative value cast to uint8 would turn bright), and NaN reads as the lowest.
    Image.fromarray(arr).save(tmp_path / "a.tif")
    out = read_image(tmp_path / "a.tif")
    assert out.shape == (2, 2, 1)
    assert out[..., 0].tolist() == expected


def test_float_tiff_mask_with_whole_values_reads_as_integers(tmp_path):
    Image.fromarray(np.array([[0.0, 1.0], [2.0, 0.0]], np.float32)).save(tmp_path / "m.tif")
    out = read_mask(tmp_path / "m.tif")
    assert out.dtype.kind in "iu" and out.tolist() == [[0, 1], [2, 0]]


def test_float_tiff_mask_with_fractions_is_refused_naming_the_file(tmp_path):
    # A soft (probability) mask would otherwise be truncated to whole values without a word.
    Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.0]], np.float32)).save(tmp_path / "m.tif")
    with pytest.raises(ValueError, match=r"m\.tif.*not whole numbers"):
        read_mask(tmp_path / "m.tif")


@pytest.mark.parametrize("pages", [1, 4])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # PIL on the cut file
def test_truncated_tiff_is_an_image_read_error(tmp_path, pages):
    # Counting a damaged TIFF's pages raises TypeError in Pillow: still a clear error by name.
    rng = np.random.default_rng(0)
    first, *rest = [Image.fromarray(rng.integers(0, 255, (64, 64), np.uint8))
                    for _ in range(pages)]
    first.save(tmp_path / "t.tif", save_all=True, append_images=rest)
    data = (tmp_path / "t.tif").read_bytes()
    for cut in (0.3, 0.6, 0.9):
        (tmp_path / "t.tif").write_bytes(data[: int(len(data) * cut)])
        with pytest.raises(ImageReadError, match=r"t\.tif"):
            read_image(tmp_path / "t.tif")
        try:  # reads the header only: a cut in the pixel data goes unseen there
            image_size(tmp_path / "t.tif")
        except ImageReadError as err:
            assert "t.tif" in str(err)


def _png_header(path, width, height, depth=8, colour_type=0):
    """A PNG that declares width x height (8-bit grey unless told) and holds no pixel data."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"")
                     + chunk(b"IEND", b""))


def test_large_images_read_without_pil_bomb_guard(tmp_path):
    # 14000 x 14000 (aerial and slide exports) is over PIL's 179-megapixel "decompression
    # bomb" limit, which raised a bare DecompressionBombError; 10000 x 10000 warned of a DOS.
    Image.new("L", (14000, 14000)).save(tmp_path / "big.png", compress_level=1)
    assert image_size(tmp_path / "big.png") == (14000, 14000)
    assert read_mask(tmp_path / "big.png").shape == (14000, 14000)


def test_image_over_the_size_limit_is_refused_naming_it(tmp_path):
    _png_header(tmp_path / "huge.png", 40000, 40000)
    with pytest.raises(ImageReadError, match=r"huge\.png is 40000x40000.*tiles"):
        image_size(tmp_path / "huge.png")


def _png_with_exif_after_pixels(path, orientation: int) -> None:
    """A 30x20 PNG whose eXIf chunk (orientation) comes after its pixel data, as the PNG
    extension allows: only a walk over the chunks finds it without decoding."""
    import io
    import struct
    import zlib

    Image.new("RGB", (30, 20)).save(buf := io.BytesIO(), format="PNG")
    data = buf.getvalue()
    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + body) & 0xFFFFFFFF)
    end = data.rindex(b"IEND") - 4
    path.write_bytes(data[:end] + chunk + data[end:])


@pytest.mark.parametrize("orientation", [1, 6])
def test_png_header_reads_decode_nothing(tmp_path, monkeypatch, orientation):
    """PIL's PngImageFile.getexif decodes the whole file when the header holds no eXIf (35 ms
    for a 1918x1280 PNG, for every image: manifest, channel scan, predict_folder)."""
    from PIL import ImageFile

    _png_with_exif_after_pixels(tmp_path / "a.png", orientation)
    shown = read_image(tmp_path / "a.png").shape[1::-1]  # (w, h) as decoded and turned
    assert shown == ((20, 30) if orientation == 6 else (30, 20))
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    assert image_size(tmp_path / "a.png") == shown


def test_png_exif_in_a_text_chunk_is_still_honoured(tmp_path):
    """ImageMagick writes EXIF as hex in a 'Raw profile type exif' text chunk: PIL reads it."""
    from PIL.PngImagePlugin import PngInfo

    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes()
    info = PngInfo()
    info.add_text("Raw profile type exif", f"\nexif\n{len(raw)}\n{raw.hex()}\n")
    Image.new("RGB", (30, 20)).save(tmp_path / "a.png", pnginfo=info)
    assert image_size(tmp_path / "a.png") == read_image(tmp_path / "a.png").shape[1::-1] == (20, 30)
