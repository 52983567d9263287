"""Every bad pair of a data set in one error: a user with several must not rerun once per file."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs, write_pair
from unet.cache.pair_sizes import LISTED, mismatch_message
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskValueError


def _run(root, pairs, processes=1):
    write_inputs(root, pairs)
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=20, height=16), processes=processes)


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
    assert not (tmp_path / "cache").exists()  # nothing half-written looks like a cache


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
