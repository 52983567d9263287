"""`unet raw`: headerless raw images (JSRT's big-endian 12-bit .IMG) to files the pipeline reads."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cli import main
from unet.common.imageio import ImageReadError, open_image
from unet.dataset.raw import convert_raw, read_raw


def _picture(height: int = 64, width: int = 64) -> np.ndarray:
    """A smooth 12-bit picture with noise, as an X-ray's optical densities."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    values = 1500 + 1500 * np.sin(yy / 9.0) * np.cos(xx / 7.0) + rng.normal(0, 60, (height, width))
    return np.clip(values, 0, 4095).astype(np.uint16)


def _raw(tmp_path, pixels: np.ndarray, name: str = "JPCLN001.IMG", order: str = ">"):
    path = tmp_path / name
    path.write_bytes(pixels.astype(f"{order}u2").tobytes())
    return path


def test_big_endian_values_kept_and_shape_from_size(tmp_path):
    pixels = _picture(64, 64)
    raw = _raw(tmp_path, pixels)
    written = convert_raw([raw], tmp_path / "png", ">u2", None, bits=12)
    back = np.array(Image.open(written[0]))
    assert written[0].name == "JPCLN001.png" and back.dtype == np.uint16
    assert np.array_equal(back, pixels)


def test_wrong_byte_order_refused_naming_the_other(tmp_path):
    # a little-endian read of big-endian data is noise: 93 % of the replica's pixels over 4095
    raw = _raw(tmp_path, _picture())
    with pytest.raises(ValueError, match=r"other order; give --dtype '>u2'"):
        read_raw(raw, "<u2", None)
    assert read_raw(raw, ">u2", None).max() <= 4095


def test_little_endian_data_read_little_endian(tmp_path):
    pixels = _picture()
    raw = _raw(tmp_path, pixels, order="<")
    assert np.array_equal(read_raw(raw, "<u2", (64, 64)), pixels)
    with pytest.raises(ValueError, match="'<u2'"):
        read_raw(raw, ">u2", (64, 64))


def test_invert_counts_from_bits_and_bin_averages(tmp_path):
    pixels = _picture(64, 64)
    raw = _raw(tmp_path, pixels)
    inverted = read_raw(raw, ">u2", None, bits=12, invert=True)
    assert np.array_equal(inverted, 4095 - pixels)
    half = read_raw(raw, ">u2", None, factor=2)
    means = pixels.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    assert half.shape == (32, 32) and np.array_equal(half, np.rint(means).astype(np.uint16))


@pytest.mark.parametrize(("dtype", "shape", "message"), [
    ("u2", None, "say the byte order"),
    (">u2", (64, 63), "needs 8,064.*fits 64x64"),
    ("uint128", None, "no numpy type"),
])
def test_bad_arguments_refused(tmp_path, dtype, shape, message):
    raw = _raw(tmp_path, _picture())
    with pytest.raises(ValueError, match=message):
        read_raw(raw, dtype, shape)


def test_values_over_bits_refused(tmp_path):
    raw = _raw(tmp_path, np.full((32, 32), 5000, np.uint16))
    with pytest.raises(ValueError, match="values reach 5,000, over the 4,095 of --bits 12"):
        read_raw(raw, ">u2", None, bits=12)


def test_nothing_written_when_one_file_fails(tmp_path):
    good = _raw(tmp_path, _picture(), "a.IMG")
    bad = tmp_path / "b.IMG"
    bad.write_bytes(b"\0" * 1000)
    with pytest.raises(ValueError, match="b.IMG"):
        convert_raw([good, bad], tmp_path / "out", ">u2", None)
    assert not list((tmp_path / "out").glob("*.png"))


def test_command_line(tmp_path, capsys):
    raw = _raw(tmp_path, _picture())
    assert main(["raw", str(raw), str(tmp_path / "out"), "--dtype", ">u2", "--bits", "12",
                 "--invert", "--bin", "2"]) == 0
    assert "1 image written" in capsys.readouterr().out
    assert Image.open(tmp_path / "out" / "JPCLN001.png").size == (32, 32)
    assert main(["raw", str(raw), str(tmp_path / "le"), "--dtype", "<u2"]) == 2
    assert "give --dtype '>u2'" in capsys.readouterr().err


def test_unreadable_raw_file_names_the_converter(tmp_path):
    # the pipeline's read error said "cannot identify image file" and "replace or remove it"
    raw = _raw(tmp_path, _picture())
    with pytest.raises(ImageReadError, match=r"64x64 16-bit pixels: convert such files with "
                                             r"`unet raw"):
        open_image(raw)


def test_eight_bit_values_in_the_high_byte_kept(tmp_path):
    # 8-bit values scaled by 256 step by a few hundred of 65,535: no noise, and the same bytes
    # read the other way would be a picture too, so the order given is the user's to say
    pixels = (_picture() >> 4) << 8
    raw = _raw(tmp_path, pixels)
    assert np.array_equal(read_raw(raw, ">u2", None), pixels)


def test_float_wrong_byte_order_refused(tmp_path):
    raw = tmp_path / "dose.raw"
    raw.write_bytes((_picture() / 4095.0).astype(">f4").tobytes())
    with pytest.raises(ValueError, match=r"dose.raw.*other order; give --dtype '>f4'"):
        read_raw(raw, "<f4", None)
    assert read_raw(raw, ">f4", None).max() <= 1.0


def test_empty_file_refused_naming_it(tmp_path):
    raw = tmp_path / "JPCLN002.IMG"
    raw.write_bytes(b"")
    with pytest.raises(ValueError, match=r"JPCLN002.IMG: it is empty \(0 bytes"):
        read_raw(raw, ">u2", None)


def test_invert_without_bits_of_narrow_data_refused(tmp_path):
    # JSRT's 12-bit values inverted from 65,535 land in 61,440-65,535: a near-white image
    raw = _raw(tmp_path, _picture())
    with pytest.raises(ValueError, match=r"JPCLN001.IMG: values reach .* give --bits"):
        read_raw(raw, ">u2", None, invert=True)
    full = _raw(tmp_path, _picture() * 16, name="wide.IMG")
    assert read_raw(full, ">u2", None, invert=True).min() >= 65535 - 4095 * 16


def test_invert_of_signed_data_refused(tmp_path):
    raw = tmp_path / "ct.raw"
    raw.write_bytes((_picture().astype(np.int16) - 3000).astype(">i2").tobytes())
    with pytest.raises(ValueError, match=r"ct.raw: --invert needs unsigned"):
        read_raw(raw, ">i2", None, bits=12, invert=True)


def test_byte_order_advice_is_a_type_numpy_reads(tmp_path):
    raw = _raw(tmp_path, _picture())
    with pytest.raises(ValueError, match=r"'>u2' \(big-endian"):
        read_raw(raw, "uint16", None)


def test_a_size_that_fits_a_square_of_another_shape_is_refused_not_skewed(tmp_path):
    # 256x100 16-bit pixels are 51,200 bytes, 160x160's: written as a skewed 160x160 in silence
    raw = _raw(tmp_path, _picture(256, 100))
    with pytest.raises(ValueError, match=r"JPCLN001.IMG: .*fit 160x160.*rows do not continue.*"
                                         r"--shape HEIGHTxWIDTH"):
        read_raw(raw, ">u2", None)
    assert read_raw(raw, ">u2", (256, 100)).shape == (256, 100)  # as given: read as it is
    assert read_raw(_raw(tmp_path, _picture(160, 160), "sq.IMG"), ">u2", None).shape == (160, 160)


def test_noise_confirms_no_square_so_shape_is_asked_for(tmp_path):
    # pixels as unlike their row neighbours as any two: a square guess is not confirmed
    noise = np.random.default_rng(1).integers(0, 4096, (64, 64)).astype(np.uint16)
    with pytest.raises(ValueError, match=r"cannot confirm it .*--shape HEIGHTxWIDTH"):
        read_raw(_raw(tmp_path, noise), ">u2", None)


def test_offset_skips_a_fixed_header_and_counts_in_the_size_check(tmp_path):
    pixels = _picture(64, 48)
    raw = tmp_path / "scan.raw"
    raw.write_bytes(b"HDR" * 100 + b"\0" * 12 + pixels.astype(">u2").tobytes())  # 312 bytes
    assert np.array_equal(read_raw(raw, ">u2", (64, 48), offset=312), pixels)
    with pytest.raises(ValueError, match=r"6,456 bytes, where --shape 64x48"):
        read_raw(raw, ">u2", (64, 48))
    with pytest.raises(ValueError, match=r"--offset 9,000 .* 6,456 bytes"):
        read_raw(raw, ">u2", (64, 48), offset=9000)
    square = tmp_path / "sq.raw"
    square.write_bytes(b"\0" * 512 + _picture(32, 32).astype(">u2").tobytes())
    assert main(["raw", str(square), str(tmp_path / "out"), "--dtype", ">u2",
                 "--offset", "512"]) == 0
    assert Image.open(tmp_path / "out" / "sq.png").size == (32, 32)


def test_a_file_there_is_refused_in_raws_words(tmp_path):
    # the refusal told to 'unstack into an empty folder' its 'page files', another command's
    raw = _raw(tmp_path, _picture())
    (tmp_path / "png").mkdir()
    (tmp_path / "png" / "JPCLN001.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError) as err:
        convert_raw([raw], tmp_path / "png", ">u2", None, bits=12)
    assert "(1 of the 1 files do); convert into an empty folder" in str(err.value)
    assert (tmp_path / "png" / "JPCLN001.png").read_bytes() == b"mine"
