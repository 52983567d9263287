"""masks.separate: touching objects of binarised instance labels kept apart by a background
line in the cached training and validation targets, and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from PIL import Image
from scipy import ndimage

from tests.conftest import PAIR_SIZE, REPO, write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.separate import refuse_merged, separate_objects
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.cache.values import mapping_from_values
from unet.common.applicable import applicable
from unet.common.labels import MaskValueError
from unet.config.checks import ConfigError, check_data

EIGHT = np.ones((3, 3))


def _squares() -> np.ndarray:
    """Ids (30, 40): object 1 at columns 5-14, object 2 touching it at columns 15-24."""
    ids = np.zeros(PAIR_SIZE[::-1], np.uint8)
    ids[5:20, 5:15], ids[5:20, 15:25] = 1, 2
    return ids


def test_touching_squares_become_two_objects_one_pixel_apart():
    ids = _squares()
    index = (ids > 0).astype(np.uint8)
    assert separate_objects(ids, index, 0) == 15  # one column of object 2 gives way
    labels, n = ndimage.label(index, structure=EIGHT)
    assert n == 2
    assert (index[5:20, 15] == 0).all() and index[5:20, 5:15].all() and index[5:20, 16:25].all()


def test_an_object_alone_and_ignored_pixels_are_unchanged():
    ids = np.zeros((20, 20), np.uint16)
    ids[4:12, 4:12] = 300
    ids[12, 4:12] = 255  # an ignored border beside it: not another object
    index = (ids == 300).astype(np.uint8)
    index[ids == 255] = 255
    before = index.copy()
    assert separate_objects(ids, index, 0) == 0
    assert np.array_equal(index, before)


def test_diagonal_neighbours_are_parted_too():
    ids = np.array([[1, 0], [0, 2]], np.uint8)
    index = (ids > 0).astype(np.uint8)
    separate_objects(ids, index, 0)
    assert index.tolist() == [[1, 0], [0, 0]]


def _cache(tmp_path, separate: bool, **pairs) -> tuple:
    """Preprocess four pairs of _squares (train, train, val, test) under masks.threshold 0."""
    root = tmp_path / ("on" if separate else "off")
    root.mkdir()
    write_inputs(root, [{**write_pair(root, i, mask=_squares()), **pairs} for i in range(4)])
    settings = PreprocessSettings(width=40, height=30, mask_threshold=0, mask_separate=separate)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)
    return root / "cache", meta


def test_the_cache_separates_training_and_validation_targets_only(tmp_path):
    cache, meta = _cache(tmp_path, True)
    assert meta["mask_separate"] is True
    for split, objects in (("train", 2), ("val", 2), ("test", 1)):
        masks = np.asarray(load_split(cache, split)[1])
        assert all(ndimage.label(m, structure=EIGHT)[1] == objects for m in masks), split


def test_off_the_cache_is_byte_identical_to_plain_binarising(tmp_path):
    off, meta = _cache(tmp_path, False)
    on, _ = _cache(tmp_path, True)
    assert "mask_separate" not in meta
    plain = (_squares() > 0).astype(np.uint8)
    for split in ("train", "val", "test"):
        assert all(np.array_equal(m, plain) for m in load_split(off, split)[1])
    assert (off / "train_images.npy").read_bytes() == (on / "train_images.npy").read_bytes()
    assert (off / "test_masks.npy").read_bytes() == (on / "test_masks.npy").read_bytes()


@pytest.mark.parametrize("merged", [{"mask_parts": ["a.png", "b.png"]},
                                    {"mask_from": "train.csv"}])
def test_merged_per_object_masks_are_refused_naming_the_key(tmp_path, merged):
    with pytest.raises(MaskValueError, match="masks.separate") as err:
        _cache(tmp_path, True, **merged)
    assert not (tmp_path / "on" / "cache").exists()
    assert "img0.png" in str(err.value) or "msk0.png" in str(err.value)


def test_a_class_folders_mask_is_refused_naming_its_files_not_a_list():
    # class folders' mask_parts: a file or a list of files per class, shown as files
    pair = {"image": "i.png", "mask": "merged_masks/i.png",
            "mask_parts": {"1": ["ma/i_1.png", "ma/i_2.png"], "2": "he/i.png"}}
    with pytest.raises(MaskValueError) as err:
        refuse_merged([pair])
    assert "merged from ma/i_1.png, ma/i_2.png, ... at download" in str(err.value)


def _config(**masks) -> dict:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["masks"].update(masks)
    return config


@pytest.mark.parametrize("masks, key", [({}, "masks.threshold"),
                                        ({"threshold": 0, "colors": [[0, 0, 0], [255, 0, 0]]},
                                         "masks.colors")])
def test_separate_needs_binarised_grey_instance_labels(masks, key):
    with pytest.raises(ConfigError, match=key):
        check_data(_config(separate=True, **masks))
    check_data(_config(separate=True, threshold=0))


@pytest.mark.parametrize("local, key", [({"mask_parts": "_\\d+"}, "dataset.local.mask_parts")])
def test_layouts_that_merge_objects_are_refused_before_the_download(tmp_path, local, key):
    config = _config(separate=True, threshold=0)
    config["dataset"].update(source="local", local={"path": str(tmp_path), **local})
    with pytest.raises(ConfigError, match=f"masks.separate.*{key}"):
        check_data(config)
    config["masks"]["separate"] = False
    check_data(config)


def test_off_is_not_a_param_so_older_caches_stay_fresh():
    masks = _config()["masks"]
    assert "separate" not in applicable("masks", {**masks, "separate": False})
    assert applicable("masks", {**masks, "separate": True})["separate"] is True
    assert settings_from_config({}, {**masks, "separate": True}).mask_separate is True


def test_palette_ids_separate_by_their_colours(tmp_path):
    """VOC's SegmentationObject PNGs: an index per object, read by brightness under a threshold."""
    im = Image.fromarray(_squares(), "P")
    im.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
    im.save(tmp_path / "m.png")
    mapping = mapping_from_values(set(), [0, 255], 0, 16, None)
    raw = mapping.read(tmp_path / "m.png")
    index = mapping.to_index(raw)
    separate_objects(raw, index, 0)
    assert ndimage.label(index, structure=EIGHT)[1] == 2


def test_the_neighbourhood_minimum_is_scipys():
    from unet.cache.separate import _lowest_around
    ids = np.random.default_rng(0).integers(0, 50, (23, 31)).astype(np.uint16)
    want = ndimage.minimum_filter(ids, size=3, mode="constant", cval=65535)
    assert np.array_equal(_lowest_around(ids), want)


def test_a_small_object_numbered_high_inside_a_ring_of_a_low_one_is_kept():
    """A 2x2 object (id 7) inside object 1: with the higher id giving way it vanished from the
    target; the larger object gives way, so the ring is cut and the small one kept whole."""
    ids = np.zeros((20, 20), np.uint16)
    ids[2:18, 2:18], ids[8:10, 8:10] = 1, 7
    index = (ids > 0).astype(np.uint8)
    assert separate_objects(ids, index, 0) == 12  # the ring's pixels around the 2x2
    assert index[8:10, 8:10].all()
    assert ndimage.label(index, structure=EIGHT)[1] == 2


def test_a_thin_object_between_lower_ids_keeps_its_pixels():
    """A 2-px strip (id 9) between two wide objects of ids 1 and 2 lost both columns."""
    ids = np.zeros((12, 24), np.uint8)
    ids[1:11, 1:11], ids[1:11, 11:13], ids[1:11, 13:23] = 1, 9, 2
    index = (ids > 0).astype(np.uint8)
    separate_objects(ids, index, 0)
    assert index[1:11, 11:13].all()
    assert ndimage.label(index, structure=EIGHT)[1] == 3


def _between_two_smaller() -> np.ndarray:
    """Ids (8, 8) as a 384x384 field of nuclei cached at 128x128 had them: a 4-px nucleus (62)
    between two of 3 px (90 and 3), every one of its pixels beside one of theirs."""
    ids = np.zeros((8, 8), np.uint16)
    ids[2, 2:4], ids[3, 2] = 90, 90
    ids[3:5, 3:5] = 62
    ids[5, 2:4], ids[6, 3] = 3, 3
    return ids


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_an_object_between_two_smaller_ones_is_not_erased(dtype):
    """Each of 62's pixels gave way to a smaller neighbour, so it left the target whole (6 of
    2,627 nuclei of 12 such fields): it keeps a pixel now, and the three stay apart."""
    ids = _between_two_smaller().astype(dtype)
    index = (ids > 0).astype(np.uint8)
    separate_objects(ids, index, 0)
    labels, n = ndimage.label(index, structure=EIGHT)
    assert n == 3  # each part one object's pixels, no object lost
    assert sorted(np.unique(ids[labels == k]).tolist() for k in range(1, 4)) == [[3], [62], [90]]


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.float32])
def test_wide_and_float_ids_part_as_16_bit_ids_do(dtype):
    """cellpose's uint32 and float TIFF labels rank by sorting, 16-bit ones by bincount."""
    ids = np.random.default_rng(1).integers(1, 40, (6, 8)).repeat(4, 0).repeat(4, 1)
    want = (ids > 0).astype(np.uint8)
    separate_objects(ids.astype(np.uint16), want, 0)
    got = (ids > 0).astype(np.uint8)
    separate_objects(ids.astype(dtype), got, 0)
    assert np.array_equal(got, want) and 0 < want.sum() < want.size


def test_a_long_lost_object_is_rescued_without_a_neighbourhood_read_per_pixel(monkeypatch):
    # 2-px stripes of one area, each giving way to its lower-numbered neighbours: every other
    # stripe is lost whole, and its rescue read each pixel's neighbourhood in Python (twice,
    # and a rescan of all its pixels per pixel grown): 15 s at 1024x1024 beside 1.5 s without
    import unet.cache.separate as separate

    calls = []
    real = separate._foreign
    monkeypatch.setattr(separate, "_foreign", lambda *a: calls.append(1) or real(*a))
    stripe = np.arange(256) // 2  # ids 1, 1000, 2, 999, ...: every high one between low ones
    ids = np.where(stripe % 2 == 0, stripe + 1, 1000 - stripe).astype(np.uint16)
    ids = ids[None, :].repeat(256, 0)
    index = np.ones(ids.shape, np.uint8)
    cleared = separate_objects(ids, index, 0)
    lost = [v for v in np.unique(ids) if not (index[ids == v]).any()]
    assert cleared and not lost  # every stripe keeps pixels: the lines still part them
    assert len(calls) < 2_000, len(calls)  # a few per lost stripe, not 2 per pixel (65,536)
