"""Empty parts: the cache takes an empty part in either mode."""

import numpy as np
import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json


@pytest.mark.parametrize("empty", ["val", "test"])
def test_an_empty_part_caches_as_empty_files_in_resize_mode(tmp_path, empty):
    # Resize mode sized its files by the part's first image: an empty part (a split.json
    # written by hand or by another tool) stopped preprocess with an IndexError.
    pairs = [write_pair(tmp_path, i) for i in range(6)]
    write_inputs(tmp_path, pairs)
    ids = [p["id"] for p in pairs]
    rest = {"val": ids[4:], "test": []} if empty == "test" else {"val": [], "test": ids[4:]}
    write_json(tmp_path / "split.json", {"train": ids[:4], **rest})
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
               PreprocessSettings(width=16, height=12))
    images, masks = load_split(tmp_path / "cache", empty)
    assert images.shape == (0, 12, 16, 3) and masks.shape == (0, 12, 16)
    assert np.asarray(load_split(tmp_path / "cache", "train")[0]).shape == (4, 12, 16, 3)
