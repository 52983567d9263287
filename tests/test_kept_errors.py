"""A pass that names every bad file at once keeps their errors, and nothing else, till the end."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskValueError

W, H = 300, 200  # each pair decoded: 60 kB of image, as much mask, more as class indices


def _failed_peak(root, n: int) -> float:
    """Peak bytes (traced) of a serial preprocess whose `n` masks all hold an unlisted value."""
    root.mkdir()
    pairs = []
    for i in range(n):
        img, msk = root / f"img{i}.png", root / f"msk{i}.png"
        Image.fromarray(np.full((H, W), i, np.uint8)).save(img)
        Image.fromarray(np.full((H, W), 7, np.uint8)).save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    write_inputs(root, pairs)
    tracemalloc.start()
    try:
        with pytest.raises(MaskValueError, match=f"{n} pairs cannot be cached"):
            preprocess(root / "manifest.json", root / "split.json", root / "cache",
                       PreprocessSettings(width=W, height=H, mask_values=(0, 255)))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_every_bad_pair_is_named_without_holding_its_decoded_arrays(tmp_path):
    """Each error kept by the serial cache pass held its stack frames, and with them the
    pair's decoded image and mask: a data set whose masks all held an unlisted value (a wrong
    masks.values) needed memory for every image before saying so (~10 MB a Carvana pair)."""
    few, many = _failed_peak(tmp_path / "few", 4), _failed_peak(tmp_path / "many", 40)
    assert many - few < 1_000_000, (few, many)  # 36 more pairs: their messages, not 8 MB


def test_files_are_listed_in_their_numbers_order():
    """Keys were sorted as text: 30 bad images img0..img29 were listed img0, img1, img10, ...,
    img19, img2, img20, ..., as no file browser shows them, and img3..img9 were left unnamed
    among '... and 10 more' though they come first."""
    from unet.common.bad_files import LISTED, raise_all
    from unet.common.imageio import ImageReadError

    errors = [(f"/d/img{i}.png", ImageReadError(f"cannot read image /d/img{i}.png: truncated",
                                                "Replace or remove the file (and its mask).")) for
              i in reversed(range(LISTED + 10))]
    with pytest.raises(ImageReadError) as err:
        raise_all(errors, "images cannot be read", "image(s)")
    named = [line.split("/d/")[1].split(":")[0] for line in str(err.value).splitlines()[1:]
             if "/d/" in line]
    assert named == [f"img{i}.png" for i in range(LISTED)]
