"""Every bad pair of a data set in one error: a user with several must not rerun once per file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.bad_files import LISTED
from unet.common.imageio import ImageReadError
from unet.common.labels import MaskValueError
from unet.common.pair_sizes import mismatch_message


def _run(root, pairs, processes=1):
    write_inputs(root, pairs)
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=20, height=16), processes=processes)


def _nothing_cached(root):
    """No cache file, and so no meta.json that would mark a cache complete."""
    assert not (root / "cache").exists() or not list((root / "cache").iterdir())


@pytest.mark.parametrize("processes", [1, 2])
def test_every_mismatched_mask_is_named_in_one_error(tmp_path, processes):
    """Three masks of another size (one turned a quarter) stopped preprocess at the first:
    each fix and rerun found the next. All three are named, with both sizes, at once."""
    pairs = [write_pair(tmp_path, i) for i in range(6)]
    for i, shape in ((1, (7, 9)), (3, (40, 30)), (4, (31, 40))):  # (h, w); 3: turned
        pairs[i] = write_pair(tmp_path, i, mask=np.zeros(shape, np.uint8))
    with pytest.raises(MaskValueError) as err:
        _run(tmp_path, pairs, processes)
    text = str(err.value)
    assert text.startswith("3 mask(s) differ in size")
    for i, size in ((1, "9x7"), (3, "30x40"), (4, "40x31")):
        assert f"img{i}.png is 40x30 but its mask {tmp_path / f'msk{i}.png'} is {size}" in text
    assert "img3.png is 40x30 but its mask" in text.splitlines()[2]  # sorted by image
    assert "turned a quarter" in text.splitlines()[2] and "drop the" in text
    _nothing_cached(tmp_path)  # nothing half-written looks like a cache


def test_many_mismatches_name_the_first_and_count_the_rest():
    bad = [(f"img{i:02}.png", f"msk{i:02}.png", (40, 30), (9, 7)) for i in range(LISTED + 5)]
    text = mismatch_message(bad)
    assert f"img{LISTED - 1:02}.png" in text and f"img{LISTED:02}.png" not in text
    assert "and 5 more pair(s)" in text


def test_a_mask_turned_by_the_image_exif_says_so(tmp_path):
    pairs = [write_pair(tmp_path, i) for i in range(4)]
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 30x40, shown 40x30... the mask drawn on the stored pixels
    Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(tmp_path / "img2.png", exif=exif)
    pairs[2]["size"] = [40, 30]
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(tmp_path / "msk2.png")
    with pytest.raises(MaskValueError, match=r"(?s)img2\.png is 40x30 but its mask .*is 30x40.*"
                       r"For image .*img2\.png.*EXIF orientation 6.*exiftool"):
        _run(tmp_path, pairs)


@pytest.mark.parametrize("processes", [1, 2])
def test_every_mask_with_unlisted_values_is_named_in_one_error(tmp_path, processes):
    """masks.values [0, 255] and three masks holding other values: the cache stopped at the
    first it reached, so each rerun named one more."""
    pairs = [write_pair(tmp_path, i, values=(0, 255)) for i in range(6)]
    for i, v in ((0, 7), (2, 9), (5, 11)):
        pairs[i] = write_pair(tmp_path, i, values=(0, v))
    write_inputs(tmp_path, pairs)
    settings = PreprocessSettings(width=20, height=16, mask_values=(0, 255))
    with pytest.raises(MaskValueError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   settings, processes=processes)
    text = str(err.value)
    assert text.startswith("3 pairs cannot be cached")
    for i, v in ((0, 7), (2, 9), (5, 11)):
        assert f"msk{i}.png holds values [{v}]" in text
    assert text.lower().count("add them to") == 1  # the shared fix once, not per file
    _nothing_cached(tmp_path)


@pytest.mark.parametrize("processes", [1, 2])
def test_every_truncated_image_is_named_in_one_error(tmp_path, processes):
    pairs = [write_pair(tmp_path, i) for i in range(5)]
    for i in (1, 4):
        path = Path(pairs[i]["image"])
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    # a PNG's missing end is seen in the header pass now, before the cache decodes any pair
    with pytest.raises(ImageReadError, match=r"(?s)2 images cannot be read.*img1\.png.*"
                       r"img4\.png.*Replace or remove"):
        _run(tmp_path, pairs, processes)
    _nothing_cached(tmp_path)


@pytest.mark.parametrize("processes", [1, 2])
def test_unreadable_masks_and_mismatched_ones_are_named_in_one_error(tmp_path, processes):
    """Masks that cannot be opened stopped the header pass at the first, before any size."""
    pairs = [write_pair(tmp_path, i) for i in range(5)]
    for i in (0, 3):
        Path(pairs[i]["mask"]).write_bytes(b"")  # a failed copy
    pairs[4] = write_pair(tmp_path, 4, mask=np.zeros((7, 9), np.uint8))
    with pytest.raises(ImageReadError) as err:
        _run(tmp_path, pairs, processes)
    text = str(err.value)
    assert text.startswith("2 masks cannot be read") and "msk0.png" in text
    assert "msk3.png" in text and "1 mask(s) differ in size" in text and "msk4.png is 9x7" in text
    _nothing_cached(tmp_path)


def test_mask_stacks_are_named_with_their_whole_advice(tmp_path):
    """Two multi-page TIFF masks: the fix said once was cut at the '; ' inside the advice's
    parenthesis, each line ending '(one PNG per page, ...' and the fix ending in a stray ')'."""
    import tifffile

    pairs = [write_pair(tmp_path, i) for i in range(4)]
    for i in (1, 3):
        stack = np.zeros((2, *np.asarray(Image.open(pairs[i]["mask"])).shape), np.uint8)
        pairs[i]["mask"] = str(tmp_path / f"stack{i}.tif")
        tifffile.imwrite(pairs[i]["mask"], stack)
    with pytest.raises(ImageReadError) as err:
        _run(tmp_path, pairs)
    lines = str(err.value).splitlines()
    # the files' lines, then (since the channels' fix joined the advice) that fix said once
    assert len(lines) == 4 and lines[0] == "2 masks cannot be read:"
    assert lines[3].startswith("If the pages are one image's channels")
    for line in lines[1:]:
        assert line.count("(") == line.count(")") and line.count("`") == 2, line
    _nothing_cached(tmp_path)


@pytest.mark.parametrize("processes", [1, 2])
def test_truncated_grey_images_saved_as_colour_are_named_at_once(tmp_path, processes):
    """Grey images saved as RGB (EM exports) are decoded to count their channels: that pass
    stopped at the first truncated image, before the cache pass that names them all."""
    rng = np.random.default_rng(0)
    pairs = [write_pair(tmp_path, i, image=np.repeat(rng.integers(0, 255, (30, 40, 1),
                                                                  np.uint8), 3, axis=2))
             for i in range(5)]
    for i in (1, 3):
        path = Path(pairs[i]["image"])
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageReadError) as err:
        _run(tmp_path, pairs, processes)
    text = str(err.value)
    assert text.startswith("2 images cannot be read") and "img1.png" in text and "img3.png" in text
    _nothing_cached(tmp_path)


def test_truncated_16_bit_images_are_named_at_once(tmp_path):
    """16-bit images are decoded for the data set's intensity range: that pass stopped at the
    first truncated training image, before the cache pass that names them all."""
    rng = np.random.default_rng(0)
    pairs = [write_pair(tmp_path, i, image=rng.integers(0, 4096, (30, 40), np.uint16))
             for i in range(5)]
    for i in (0, 1):  # both in the training split
        path = Path(pairs[i]["image"])
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageReadError) as err:
        _run(tmp_path, pairs)
    text = str(err.value)  # named by the range pass itself (b5af1c5), both in one error
    assert text.startswith("2 images cannot be read") and "img0.png" in text and "img1.png" in text
    _nothing_cached(tmp_path)


def test_a_mask_exported_at_a_downsample_is_named_with_its_factor():
    # QuPath's labelled-image export writes masks at a downsample (4 is common): the error
    # said only "resize each mask", not that these are 4x-smaller exports to redo at 1.
    bad = [("slide.tif", "slide.png", (4000, 3000), (1000, 750)),
           ("odd.tif", "odd.png", (4001, 2999), (1000, 750)),  # the export rounds each side
           ("other.png", "other_mask.png", (400, 300), (390, 290))]  # cropped: no factor
    text = mismatch_message(bad)
    assert "slide.png is 1000x750 (its image downsampled 4x)" in text
    assert "odd.png is 1000x750 (its image downsampled 4x)" in text
    assert "other_mask.png is 390x290\n" in text
    assert "export the masks again at downsample 1" in text


def test_masks_drawn_on_reduced_images_name_reducing_the_images():
    # SCR's masks are JSRT's images at half size: the only advice was to export the masks
    # again at downsample 1 (QuPath's), which a data set's fixed masks cannot be
    text = mismatch_message([("JPCLN001.png", "JPCLN001.gif", (2048, 2048), (1024, 1024))])
    assert "want the images reduced the same way instead" in text
    assert "`unet raw ... --bin N`" in text
