"""Files PIL cannot read or misreads: microscopy and remote-sensing TIFFs (float16, planar,
more samples) and 16-bit colour TIFFs and PNGs, which PIL cut to the high byte of each sample.
They read in the same value spaces as the files PIL reads."""

import numpy as np
import pytest
import tifffile

from unet.common.imageio import ImageReadError, image_size, read_image
from unet.common.maskio import read_mask


def test_float16_grey_reads_like_float32(tmp_path):
    arr = np.linspace(0, 1, 12 * 10, dtype=np.float32).reshape(12, 10)
    tifffile.imwrite(tmp_path / "h.tif", arr.astype(np.float16))
    tifffile.imwrite(tmp_path / "s.tif", arr)
    half, single = read_image(tmp_path / "h.tif"), read_image(tmp_path / "s.tif")
    assert half.shape == (12, 10, 1) and image_size(tmp_path / "h.tif") == (10, 12)
    assert np.abs(half.astype(int) - single.astype(int)).max() <= 1


@pytest.mark.parametrize("planar", ["contig", "separate"])
def test_three_samples_read_as_colour(tmp_path, planar):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (3, 8, 9) if planar == "separate" else (8, 9, 3), np.uint8)
    tifffile.imwrite(tmp_path / "c.tif", arr, planarconfig=planar, photometric="minisblack")
    out = read_image(tmp_path / "c.tif")
    expected = np.moveaxis(arr, 0, -1) if planar == "separate" else arr
    assert out.shape == (8, 9, 3) and np.array_equal(out, expected)


def test_sixteen_bit_colour_is_scaled_by_its_range_not_cut_to_the_high_byte(tmp_path):
    # A 12-bit camera in a 16-bit RGB TIFF: PIL kept each sample's high byte, 16 grey levels.
    arr = np.zeros((4, 4, 3), np.uint16)
    arr[0, 0] = [4095, 2048, 0]
    tifffile.imwrite(tmp_path / "rgb16.tif", arr, photometric="rgb")
    out = read_image(tmp_path / "rgb16.tif")
    assert out.shape == (4, 4, 3) and out[0, 0].tolist() == [255, 128, 0]


@pytest.mark.parametrize(("channels", "dtype"), [(2, np.uint8), (4, np.uint16)])
def test_channel_counts_the_model_cannot_read_are_refused_naming_the_file(tmp_path, channels,
                                                                          dtype):
    # Two-sample grey: PIL opened it as L, its first channel alone, without a word. Four
    # (RGB + near-infrared): PIL could not identify it.
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((8, 8, channels), dtype),
                     planarconfig="contig", photometric="minisblack")
    with pytest.raises(ImageReadError, match=rf"c\.tif holds {channels} channels.*1 \(grey\) or 3"):
        read_image(tmp_path / "c.tif")


def test_float16_mask_with_class_values(tmp_path):
    arr = np.array([[0, 1], [2, 1]], np.float16)
    tifffile.imwrite(tmp_path / "m.tif", arr)
    assert read_mask(tmp_path / "m.tif").tolist() == [[0, 1], [2, 1]]


def test_stack_of_a_kind_pil_cannot_read_is_refused(tmp_path):
    for _ in range(3):
        tifffile.imwrite(tmp_path / "st.tif", np.zeros((8, 8), np.float16), append=True)
    with pytest.raises(ImageReadError, match=r"st\.tif holds 3 pages"):
        read_image(tmp_path / "st.tif")


def test_damaged_file_of_that_kind_names_it(tmp_path):
    tifffile.imwrite(tmp_path / "d.tif", np.ones((64, 64), np.float16))
    data = (tmp_path / "d.tif").read_bytes()
    (tmp_path / "d.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"d\.tif"):
        read_image(tmp_path / "d.tif")


def test_lzw_sixteen_bit_colour(tmp_path):
    arr = np.zeros((16, 16, 3), np.uint16)
    arr[0, 0] = [4095, 2048, 0]
    tifffile.imwrite(tmp_path / "lzw.tif", arr, photometric="rgb", compression="lzw")
    assert read_image(tmp_path / "lzw.tif")[0, 0].tolist() == [255, 128, 0]


@pytest.mark.parametrize("channels", [3, 4])
def test_sixteen_bit_colour_png_is_scaled_by_its_range(tmp_path, channels):
    # 48-bit (and 64-bit RGBA) PNG: PIL decodes the high byte of each sample too.
    import imagecodecs

    arr = np.zeros((4, 5, channels), np.uint16)
    arr[0, 0, :3] = [4095, 2048, 0]
    (tmp_path / "c.png").write_bytes(imagecodecs.png_encode(arr))
    out = read_image(tmp_path / "c.png")
    assert out.shape == (4, 5, 3) and out[0, 0].tolist() == [255, 128, 0]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_orientation_is_applied_as_pil_applies_it(tmp_path, orientation):
    # A mask read by PIL is turned by the TIFF Orientation tag: an image read by tifffile must
    # turn the same way, or a square pair is silently misaligned.
    arr = np.arange(6 * 4 * 3, dtype=np.uint16).reshape(6, 4, 3) * 300
    tag = [(274, "H", 1, orientation, True)]
    tifffile.imwrite(tmp_path / "wide.tif", arr, photometric="rgb", extratags=tag)
    tifffile.imwrite(tmp_path / "pil.tif", (arr // 257).astype(np.uint8), photometric="rgb",
                     extratags=tag)
    wide, pil = read_image(tmp_path / "wide.tif"), read_image(tmp_path / "pil.tif")
    assert wide.shape == pil.shape
    # Pillow reports a TIFF's size already turned: the header read turned it a second time.
    assert image_size(tmp_path / "pil.tif") == (pil.shape[1], pil.shape[0])
    assert image_size(tmp_path / "wide.tif") == (wide.shape[1], wide.shape[0])
    # same picture: the orders of the pixel values agree (the two are scaled differently)
    assert np.array_equal(np.argsort(wide.sum(-1), axis=None), np.argsort(pil.sum(-1), axis=None))


def test_header_reads_do_not_decode_what_pil_misreads(tmp_path, monkeypatch):
    # image_size (the channel scan, predict_folder's header pass) decoded 16-bit colour whole
    # through tifffile to learn a size PIL's header already gives.
    import unet.common.imageio as imageio

    tifffile.imwrite(tmp_path / "rgb16.tif", np.zeros((6, 5, 3), np.uint16), photometric="rgb")

    def no_decode(path):
        raise AssertionError(f"decoded {path}")

    monkeypatch.setattr(imageio, "read_wide", no_decode)
    assert image_size(tmp_path / "rgb16.tif") == (5, 6)


def test_oversized_sixteen_bit_colour_is_refused_before_decoding(tmp_path):
    from tests.test_imageio import _png_header

    _png_header(tmp_path / "huge48.png", 40000, 40000, depth=16, colour_type=2)
    with pytest.raises(ImageReadError, match=r"huge48\.png is 40000x40000.*tiles"):
        read_image(tmp_path / "huge48.png")


@pytest.mark.parametrize(
    ("arr", "kw", "mode"),
    [
        (np.zeros((6, 5), np.float16), {}, "F"),
        (np.zeros((3, 6, 5), np.uint16), {"planarconfig": "separate", "photometric": "rgb"},
         "RGB"),
        (np.zeros((6, 5, 3), np.float32), {"photometric": "rgb"}, "RGB"),
    ],
)
def test_header_reads_of_tiffs_pil_cannot_open_decode_nothing(tmp_path, monkeypatch, arr, kw,
                                                                mode):
    """float16, planar and float-colour TIFFs: the size and mode come from tifffile's header,
    as they would after the decode (the whole file was decoded for its size, up to three times
    before training: manifest, channel scan, predict_folder)."""
    import unet.common.imageio as imageio

    tifffile.imwrite(tmp_path / "a.tif", arr, **kw)
    expected = imageio.image_header(tmp_path / "a.tif")
    with imageio.opened_image(tmp_path / "a.tif") as im:  # what the decode gives
        assert (im.mode, im.size) == expected == (mode, (5, 6))

    def no_decode(path):
        raise AssertionError(f"decoded {path}")

    monkeypatch.setattr(imageio, "read_wide", no_decode)
    assert imageio.image_header(tmp_path / "a.tif") == (mode, (5, 6))


def test_header_of_a_turned_tiff_pil_cannot_open(tmp_path):
    tag = [(274, "H", 1, 6, True)]  # turned a quarter: shown 6 wide and 5 high
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((5, 6), np.float16), extratags=tag)
    assert image_size(tmp_path / "a.tif") == (5, 6) == read_image(tmp_path / "a.tif").shape[1::-1]


def test_oversized_float_tiff_is_refused_from_its_header(tmp_path, monkeypatch):
    import unet.common.imageio as imageio

    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 30), np.float16))
    monkeypatch.setattr(imageio, "MAX_PIXELS", 1000)
    monkeypatch.setattr(imageio, "read_wide", lambda path: pytest.fail("decoded"))
    with pytest.raises(ImageReadError, match=r"big\.tif is 30x40"):
        imageio.image_size(tmp_path / "big.tif")


def test_header_refuses_what_the_decode_refuses(tmp_path):
    # A multi-band TIFF is read by tifffile (bands.py): its header gives its size, and the
    # grey-or-colour reader refuses it by name.
    tifffile.imwrite(tmp_path / "nir.tif", np.zeros((6, 5, 4), np.float32),
                     photometric="minisblack", planarconfig="contig")
    assert image_size(tmp_path / "nir.tif") == (5, 6)
    with pytest.raises(ImageReadError, match=r"nir\.tif holds 4 channels"):
        read_image(tmp_path / "nir.tif")
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((3, 6, 5), np.float16),
                     photometric="minisblack")
    with pytest.raises(ImageReadError, match=r"stack\.tif holds 3 pages"):
        image_size(tmp_path / "stack.tif")


def test_the_palette_check_decodes_no_float_mask(tmp_path, monkeypatch):
    """check_palettes reads every mask's header: a float16 TIFF mask was decoded whole."""
    import unet.common.imageio as imageio
    from unet.common.maskio import mask_palette

    tifffile.imwrite(tmp_path / "m.tif", np.zeros((6, 5), np.float16))
    monkeypatch.setattr(imageio, "read_wide", lambda path: pytest.fail("decoded"))
    assert mask_palette(tmp_path / "m.tif") is None


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_an_rgb_tiff_with_a_fourth_band_that_is_not_alpha_is_not_read_as_rgb(tmp_path, dtype):
    # ISPRS Potsdam's RGBIR orthophotos: photometric RGB and a fourth sample marked
    # "unspecified" (near-infrared, not alpha). PIL opened it as RGB and the NIR band was
    # dropped without a word; it is a 4-band image (bands.py), which the RGB reader refuses.
    from unet.common.bands import read_bands

    arr = np.zeros((6, 5, 4), dtype)
    arr[..., 3] = 7
    tifffile.imwrite(tmp_path / "rgbir.tif", arr, photometric="rgb", extrasamples=["unspecified"])
    with pytest.raises(ImageReadError, match=r"rgbir\.tif holds 4 channels.*not alpha"):
        read_image(tmp_path / "rgbir.tif")
    assert read_bands(tmp_path / "rgbir.tif").shape == (6, 5, 4)
    tifffile.imwrite(tmp_path / "rgba.tif", arr, photometric="rgb", extrasamples=["unassalpha"])
    assert read_image(tmp_path / "rgba.tif").shape == (6, 5, 3)  # alpha: dropped, as before


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
@pytest.mark.parametrize("colour", [False, True])
def test_uncompressed_turned_tiff_reads_turned(tmp_path, orientation, colour):
    # Pillow 13 decodes an uncompressed 8-bit TIFF whose Orientation swaps width and height
    # into a stored-size array of scrambled pixels: a scanner's image came out striped and a
    # mask drawn upright no longer matched it, with no error until the CRF.
    from PIL import Image

    from unet.common.decoders import oriented

    rng = np.random.default_rng(orientation)
    arr = rng.integers(0, 255, (6, 4, 3) if colour else (6, 4), np.uint8)
    Image.fromarray(arr).save(tmp_path / "t.tif", tiffinfo={274: orientation})
    want = oriented(tifffile.imread(tmp_path / "t.tif"), orientation)
    assert image_size(tmp_path / "t.tif") == (6, 4)
    got = read_image(tmp_path / "t.tif")
    assert np.array_equal(got.reshape(want.shape), want)
    assert np.array_equal(read_mask(tmp_path / "t.tif", colour=colour).shape, want.shape[:2])


def test_signed_8_bit_tiff_keeps_its_sign(tmp_path):
    # Pillow reads an int8 TIFF as unsigned 8-bit: -5 came out as 251, a mask's -1 (void) as
    # 255 and an image's dark values as its brightest.
    arr = np.array([[-5, 0], [7, -128]], np.int8)
    tifffile.imwrite(tmp_path / "s.tif", arr)
    assert read_mask(tmp_path / "s.tif").tolist() == arr.tolist()
    image = read_image(tmp_path / "s.tif")[..., 0]
    assert image[1, 1] < image[0, 0] < image[0, 1] < image[1, 0]


@pytest.mark.parametrize("orientation", [6, 8])
def test_turned_sixteen_bit_grey_tiff_reads_turned(tmp_path, orientation):
    # Turned TIFFs go through tifffile: a uint16 page then failed in Image.fromarray's
    # mode="I;16" (Pillow 13: "Invalid mode for data type"), naming no file.
    from unet.common.decoders import oriented

    arr = (np.arange(6 * 4, dtype=np.uint16) * 1000).reshape(6, 4)
    tifffile.imwrite(tmp_path / "t.tif", arr, extratags=[(274, "H", 1, orientation, True)])
    want = oriented(arr, orientation)
    assert np.array_equal(read_mask(tmp_path / "t.tif"), want)
    assert read_image(tmp_path / "t.tif").shape == (*want.shape, 1)
    assert image_size(tmp_path / "t.tif") == (6, 4)


@pytest.mark.parametrize("compression", ["webp", "jpeg2000", "lerc"])
def test_tiff_compressions_pil_lacks_are_decoded_by_tifffile(tmp_path, compression):
    # PIL identifies a WebP-compressed TIFF but its libtiff cannot decode it ("decoder error
    # -2"), so it was refused as damaged; tifffile (imagecodecs) reads it, as it reads the
    # JPEG 2000 tiles some slide scanners write.
    rgb = np.random.default_rng(0).integers(0, 255, (32, 48, 3), np.uint8)
    path = tmp_path / f"c_{compression}.tif"
    lossless = {"webp": {"compressionargs": {"lossless": True}},
                "jpeg2000": {"compressionargs": {"reversible": True}}}.get(compression, {})
    tifffile.imwrite(path, rgb, compression=compression, **lossless)
    np.testing.assert_array_equal(read_image(path), tifffile.imread(path))
    assert image_size(path) == (48, 32)


@pytest.mark.parametrize("compression", [None, "lzw", "deflate", "jpeg2000", "lerc"])
def test_a_cut_off_tiff_is_named_as_damaged(tmp_path, compression):
    # The codecs' own errors (imagecodecs.DeflateError from the tifffile fallback for what
    # PIL cannot decode; Jpeg2kError, LercError for what PIL cannot open) escaped as they
    # were, naming no file
    rgb = np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8)
    whole = tmp_path / "whole.tif"
    tifffile.imwrite(whole, rgb, compression=compression, rowsperstrip=16)
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageReadError, match=r"cannot read image .*cut\.tif"):
        read_image(cut)
