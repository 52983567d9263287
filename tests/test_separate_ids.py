"""masks.separate on palette and colour instance labels: objects parted by their ids (palette
indices, colours), not by the brightness the threshold binarises them by."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from tests.conftest import PAIR_SIZE, write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings

EIGHT = np.ones((3, 3))
# (0, 31, 16) and (4, 21, 57): two colours of one brightness, 20.021 (299 r + 587 g + 114 b)
SAME_BRIGHTNESS = ((0, 31, 16), (4, 21, 57))


def _leaves() -> np.ndarray:
    """Ids (30, 40): leaf 1 at columns 5-14, leaf 2 touching it at columns 15-24."""
    ids = np.zeros(PAIR_SIZE[::-1], np.uint8)
    ids[5:20, 5:15], ids[5:20, 15:25] = 1, 2
    return ids


def _palette_mask(path, colours) -> None:
    """A palette PNG of _leaves: index 0 black, indices 1 and 2 in `colours` (CVPPP's labels:
    an index per leaf, the palette's colours arbitrary)."""
    im = Image.fromarray(_leaves(), "P")
    im.putpalette([0, 0, 0, *colours[0], *colours[1]] + [0] * 759)
    im.save(path)


def _colour_mask(path, colours) -> None:
    """An RGB PNG of _leaves, each leaf in its colour (ids kept in the colour channels)."""
    rgb = np.zeros((*PAIR_SIZE[::-1], 3), np.uint8)
    for k, colour in enumerate(colours, 1):
        rgb[_leaves() == k] = colour
    Image.fromarray(rgb).save(path)


@pytest.mark.parametrize("write, colours", [
    (_palette_mask, ((0, 128, 0), (0, 128, 0))),  # one colour at two indices
    (_palette_mask, SAME_BRIGHTNESS),
    (_colour_mask, SAME_BRIGHTNESS),
])
def test_touching_objects_of_one_brightness_are_parted_by_their_ids(tmp_path, write, colours):
    pairs = [write_pair(tmp_path, i) for i in range(4)]
    for pair in pairs:
        write(pair["mask"], colours)
    write_inputs(tmp_path, pairs)
    settings = PreprocessSettings(width=40, height=30, mask_threshold=0, mask_separate=True)
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache", settings)
    for split in ("train", "val"):
        masks = np.asarray(load_split(tmp_path / "cache", split)[1])
        assert [ndimage.label(m, structure=EIGHT)[1] for m in masks] == [2] * len(masks), split
