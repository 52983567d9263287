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


@pytest.mark.parametrize("separate", [True, False])
def test_a_black_leaf_is_foreground_under_threshold_0(tmp_path, separate):
    """A leaf whose palette colour is black (index 2 shown (0, 0, 0), as index 0) read as
    background under masks.threshold: 0, the instance labels' setting: its pixels trained as
    background without a word. Each leaf is an object, parted from its neighbour or not."""
    pairs = [write_pair(tmp_path, i) for i in range(4)]
    for pair in pairs:
        _palette_mask(pair["mask"], ((0, 128, 0), (0, 0, 0)))
    write_inputs(tmp_path, pairs)
    settings = PreprocessSettings(width=40, height=30, mask_threshold=0, mask_separate=separate)
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache", settings)
    leaves = np.count_nonzero(_leaves())
    for split in ("train", "val"):
        for mask in np.asarray(load_split(tmp_path / "cache", split)[1]):
            assert ndimage.label(mask, structure=EIGHT)[1] == (2 if separate else 1), split
            assert leaves - 15 * separate <= np.count_nonzero(mask) <= leaves, split


def test_black_palette_index_0_read_by_brightness_elsewhere(tmp_path):
    """Only threshold 0 over a black index 0 reads ids: at threshold 50 a dark id is still
    background (brightness), and where index 0 is white its black ids are background (a
    quantised grey mask, black not its index 0)."""
    from unet.common.labels import MaskMapping

    path = tmp_path / "m.png"
    _palette_mask(path, ((0, 128, 0), (0, 0, 0)))
    assert np.count_nonzero(MaskMapping((0, 255), threshold=50).read_index(path)) == 150
    im = Image.fromarray(_leaves(), "P")
    im.putpalette([255, 255, 255, 0, 128, 0, 0, 0, 0] + [0] * 759)
    im.save(path)
    index = MaskMapping((0, 255), threshold=0).read_index(path)
    assert np.array_equal(index, (_leaves() != 2).astype(np.uint8))
