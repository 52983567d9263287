"""Empty parts: the cache takes an empty part in either mode, and a split left empty by
split.test_ids or val_ids names those keys, not the unused fractions."""

import numpy as np
import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.dataset.split import SplitError, make_split


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


IDS = [f"img_{i}" for i in range(6)]


@pytest.mark.parametrize("named, key", [
    ({"test_ids": IDS[:5]}, "split.test_ids names 5 of the 6 images"),
    ({"test_ids": IDS[:3], "val_ids": IDS[3:]}, "split.val_ids names 3"),
    ({"val_ids": IDS[:5]}, "split.val_ids names 5 of the 6 images"),
])
def test_a_train_split_emptied_by_named_ids_names_those_keys(named, key):
    # Was "val and test took every image; lower split.val_fraction or split.test_fraction":
    # the test fraction is unused where test_ids name the test split, and no fraction helps.
    with pytest.raises(SplitError) as err:
        make_split(IDS, seed=0, val_fraction=0.15, test_fraction=0.15, **named)
    text = str(err.value)
    assert "the train split is empty" in text and key in text and "name fewer" in text
    assert "test_fraction" not in text


def test_a_val_split_emptied_by_test_ids_does_not_ask_for_a_larger_fraction():
    # Was "raise split.val_fraction to 0.09": that took the one image left from training.
    with pytest.raises(SplitError) as err:
        make_split(IDS, seed=0, val_fraction=0.01, test_fraction=0.15, test_ids=IDS[:5])
    text = str(err.value)
    assert "split.test_ids names 5 of the 6 images" in text and "leaves 1" in text
    assert "raise it" not in text


@pytest.mark.parametrize("val_fraction", [0.15, 0.34])  # val empty, train empty
def test_grouped_parts_emptied_by_named_ids_name_those_keys(val_fraction):
    groups = {i: i[:4] + str(int(i[-1]) // 2) for i in IDS}  # three groups of two
    with pytest.raises(SplitError) as err:
        make_split(IDS, seed=0, val_fraction=val_fraction, test_fraction=0.15, groups=groups,
                   test_ids=IDS[:4])
    assert "split.test_ids names 4 of the 6 images" in str(err.value)


@pytest.mark.parametrize("key, why", [("val_fraction", "selects the epoch kept"),
                                      ("test_fraction", "scores the model")])
def test_a_fraction_of_zero_is_refused_with_what_the_part_is_for(config, key, why):
    # Was only "split.val_fraction: 0 is less than or equal to the minimum of 0": neither why
    # a part cannot be left out nor what to give instead.
    from tests.conftest import SCHEMA
    from unet.config.experiments import ConfigError
    from unet.config.schema import check_schema

    config["split"] = {**config["split"], key: 0}
    with pytest.raises(ConfigError) as err:
        check_schema(config, SCHEMA)
    assert str(err.value).startswith(f"split.{key}: 0 is less than") and why in str(err.value)
