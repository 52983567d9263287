"""Bad input: each error names the file or key and says what to do; nothing is half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PAIR_SIZE, write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.common.imageio import ImageReadError
from unet.common.labels import MaskValueError
from unet.common.maskio import pack_rgb


def _run(root, pairs, settings=None):
    write_inputs(root, pairs)
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      settings or PreprocessSettings(width=20, height=16))


def _nothing_half_written(root):
    cache = root / "cache"
    assert not cache.exists() or not [p for p in cache.iterdir() if p.name != "."], \
        f"partial cache files left: {list(cache.iterdir())}"


def test_truncated_image_names_the_file(tmp_path):
    pairs = [write_pair(tmp_path, i) for i in range(4)]
    path = Path(pairs[3]["image"])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # cut mid-file
    with pytest.raises(ImageReadError, match=r"img3\.png.*Replace or remove"):
        _run(tmp_path, pairs)
    _nothing_half_written(tmp_path)


def test_corrupt_image_names_the_file(tmp_path):
    pairs = [write_pair(tmp_path, i) for i in range(4)]
    Path(pairs[0]["image"]).write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match=r"img0\.png"):
        _run(tmp_path, pairs)


def test_image_and_mask_of_different_sizes(tmp_path):
    pairs = [write_pair(tmp_path, i) for i in range(3)]
    pairs.append(write_pair(tmp_path, 3, mask=np.zeros((7, 9), np.uint8)))
    with pytest.raises(MaskValueError, match=r"img3\.png is 40x30 but its mask .*msk3\.png is 9x7"):
        _run(tmp_path, pairs)
    _nothing_half_written(tmp_path)


def test_colour_not_in_mapping_is_named_as_a_colour(tmp_path):
    red, black = [255, 0, 0], [0, 0, 0]
    masks = np.zeros((4, PAIR_SIZE[1], PAIR_SIZE[0], 3), np.uint8)
    masks[:, :10] = red
    masks[3, :3, :3] = [0, 255, 0]  # green: not in the mapping
    pairs = [write_pair(tmp_path, i, mask=masks[i]) for i in range(4)]
    settings = settings_from_config({"width": 20, "height": 16},
                                    {"values": None, "colors": [black, red], "threshold": None,
                                     "max_values": 16, "ignore": None})
    assert settings.mask_values == tuple(pack_rgb(np.array([black, red], np.uint8)).tolist())
    with pytest.raises(MaskValueError, match=r"msk3\.png holds values \[\(0, 255, 0\)\]"):
        _run(tmp_path, pairs, settings)


def test_colour_masks_map_to_classes(tmp_path):
    red, black = [255, 0, 0], [0, 0, 0]
    mask = np.zeros((PAIR_SIZE[1], PAIR_SIZE[0], 3), np.uint8)
    mask[:15] = red
    pairs = [write_pair(tmp_path, i, mask=mask) for i in range(4)]
    settings = settings_from_config({"width": 20, "height": 16},
                                    {"values": None, "colors": [black, red], "threshold": None,
                                     "max_values": 16, "ignore": None})
    meta = _run(tmp_path, pairs, settings)
    assert meta["num_classes"] == 2
    cached = np.load(tmp_path / "cache" / "train_masks.npy")
    assert cached[0, :8].min() == 1 and cached[0, 8:].max() == 0


def test_ignore_value_is_kept_apart(tmp_path):
    trimap = np.full((PAIR_SIZE[1], PAIR_SIZE[0]), 2, np.uint8)
    trimap[5:20, 5:30], trimap[4, 4:31] = 1, 3
    pairs = [write_pair(tmp_path, i, mask=trimap) for i in range(4)]
    meta = _run(tmp_path, pairs, PreprocessSettings(20, 16, mask_values=(2, 1), mask_ignore=3))
    assert meta["class_values"] == [2, 1] and meta["ignore_value"] == 3
    assert set(np.unique(np.load(tmp_path / "cache" / "train_masks.npy"))) <= {0, 1, 255}


def test_many_class_palette_masks_point_to_max_values(tmp_path):
    # Pascal VOC style: palette PNGs of 21 classes plus a 255 border. The refusal must not
    # only call them lossy: raising masks.max_values is the fix for real class values.
    values = (*range(21), 255)
    pairs = []
    for i in range(4):
        pairs.append(write_pair(tmp_path, i, values=values))
        mask = Image.fromarray(np.asarray(Image.open(pairs[-1]["mask"])), mode="P")
        mask.putpalette(np.random.default_rng(0).integers(0, 256, 768, np.uint8).tobytes())
        mask.save(pairs[-1]["mask"])  # a palette PNG whose indices are the class values
    with pytest.raises(MaskValueError, match=r"22 distinct values.*raise masks\.max_values"):
        _run(tmp_path, pairs)
    settings = settings_from_config({"width": 20, "height": 16},
                                    {"values": None, "colors": None, "threshold": None,
                                     "max_values": 32, "ignore": 255})
    assert _run(tmp_path, pairs, settings)["num_classes"] == 21


def test_instance_label_masks_point_to_threshold_zero(tmp_path):
    # GlaS, cellpose and DSB-style label images: 0 background, 1..N one value per object. The
    # lossy-mask hint alone said threshold 127, which makes every object labelled 1-127
    # background without a word; threshold 0 makes every object foreground.
    pairs = []
    for i in range(4):
        labels = np.zeros((PAIR_SIZE[1], PAIR_SIZE[0]), np.uint16)
        for k in range(1, 25):  # 24 objects, small labels
            labels[(k * 3) % 28:(k * 3) % 28 + 2, k:k + 2] = k + 10 * i
        pairs.append(write_pair(tmp_path, i, mask=labels))
    hint = r"values, 0 to 54 .*Instance labels.*threshold: 0 to make"
    with pytest.raises(MaskValueError, match=hint):
        _run(tmp_path, pairs)
    settings = settings_from_config({"width": 20, "height": 16},
                                    {"values": None, "colors": None, "threshold": 0,
                                     "max_values": 16, "ignore": None})
    meta = _run(tmp_path, pairs, settings)
    assert meta["num_classes"] == 2 and meta["class_values"] == [0, 65535]
