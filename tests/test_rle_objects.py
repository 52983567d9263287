"""--rle-objects: one encoding per 8-connected object, each made from the object's own pixels,
equal to encoding a whole-image mask of it, in memory that does not grow with the objects."""

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from tests.test_rle import encode
from unet.dataset.rle_submission import _encodings


def _reference(on: np.ndarray, order: str) -> list[str]:
    labels, n = ndimage.label(on, structure=np.ones((3, 3), bool))
    return [encode(labels == k, order) for k in range(1, n + 1)]


@pytest.mark.parametrize("order", ["columns", "rows"])
def test_each_objects_encoding_equals_its_whole_image_mask(order):
    on = np.random.default_rng(4).random((23, 17)) > 0.8
    # An object running down the last row of column 3 into the first row of column 4, and one
    # from a row's end to the next row's start: runs that carry over in the flat order.
    on[:, 3] = on[0, 4] = True
    on[10, 16] = on[11, 0] = on[10, 15] = True
    assert _encodings(on, True, order) == _reference(on, order)
    assert _encodings(on, False, order) == [encode(on, order)]
    assert _encodings(np.zeros((5, 4), bool), True, order) == []


def test_many_objects_of_a_large_mask_take_no_whole_image_mask_each(tmp_path):
    """write_submission(objects=True) of a 1024x1024 mask with 210 specks: a whole-image bool
    mask per object traced 210 MB; each object's own pixels about the image's labels."""
    import csv

    from unet.common.labels import MaskMapping
    from unet.dataset.rle_submission import write_submission

    index = np.zeros((1024, 1024), np.uint8)
    index[5::73, 7::71] = 1
    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "a.png", index)
    tracemalloc.start()
    try:
        n = write_submission([("a.png", tmp_path / "a.png")], binary, tmp_path / "s.csv",
                             objects=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, f"{peak / 2**20:.1f} MB traced"
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert n == len(rows) == index.sum()
    assert [r["EncodedPixels"] for r in rows] == _reference(index > 0, "columns")
