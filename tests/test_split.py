"""Seeded split: deterministic, disjoint, complete, and clear when a split is empty."""

import pytest

from unet.dataset.split import SplitError, make_split

IDS = [f"img_{i:03d}" for i in range(40)]


def test_same_seed_same_split_regardless_of_order():
    a = make_split(IDS, seed=3, val_fraction=0.2, test_fraction=0.2)
    b = make_split(list(reversed(IDS)), seed=3, val_fraction=0.2, test_fraction=0.2)
    assert a == b


def test_other_seed_other_split():
    a = make_split(IDS, seed=1, val_fraction=0.2, test_fraction=0.2)
    b = make_split(IDS, seed=2, val_fraction=0.2, test_fraction=0.2)
    assert a["test"] != b["test"]


def test_disjoint_and_complete():
    s = make_split(IDS, seed=0, val_fraction=0.15, test_fraction=0.25)
    assert set(s["train"]).isdisjoint(s["val"]) and set(s["train"]).isdisjoint(s["test"])
    assert set(s["val"]).isdisjoint(s["test"])
    assert sorted(s["train"] + s["val"] + s["test"]) == IDS
    assert (len(s["val"]), len(s["test"])) == (6, 10)


def test_explicit_test_ids():
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.5, test_ids=IDS[:3])
    assert s["test"] == IDS[:3]
    assert len(s["val"]) == 8 and len(s["train"]) == 29


def test_empty_split_is_an_error_naming_the_setting():
    with pytest.raises(SplitError, match="val split is empty.*val_fraction"):
        make_split(IDS[:4], seed=0, val_fraction=0.05, test_fraction=0.25)


def test_unknown_test_id():
    with pytest.raises(SplitError, match="test_ids"):
        make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, test_ids=["nope"])


def test_folds_partition_the_images_outside_test():
    s = make_split(IDS, seed=4, val_fraction=0.2, test_fraction=0.25, folds=4)
    plain = make_split(IDS, seed=4, val_fraction=0.2, test_fraction=0.25)
    assert s["test"] == plain["test"]  # turning folds on leaves the test split alone
    pool = sorted(set(IDS) - set(s["test"]))
    assert sorted(i for f in s["folds"] for i in f) == pool
    assert sorted(len(f) for f in s["folds"]) == [7, 7, 8, 8]
    assert s["val"] == s["folds"][0]
    assert sorted(s["train"]) == sorted(i for f in s["folds"][1:] for i in f)
    assert make_split(list(reversed(IDS)), 4, 0.2, 0.25, folds=4) == s


@pytest.mark.parametrize("folds, match", [(1, "split.folds=1"), (12, "split.folds=12 needs")])
def test_bad_fold_counts_name_the_setting(folds, match):
    with pytest.raises(SplitError, match=match):
        make_split(IDS[:20], seed=0, val_fraction=0.2, test_fraction=0.25, folds=folds)


def test_numeric_test_ids_as_yaml_writes_them():
    # `test_ids: [24, 25]` (ISBI's sections are 0.png ... 29.png) was refused by the schema:
    # YAML reads unquoted stems as integers.
    import jsonschema
    import yaml

    from tests.conftest import REPO

    ids = [str(i) for i in range(30)]
    s = make_split(ids, seed=0, val_fraction=0.1, test_fraction=0.2, test_ids=[24, 25])
    assert s["test"] == ["24", "25"]
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    jsonschema.validate({"split": {"test_ids": [24, "25"]}}, schema)


class _CountedId(str):
    """An id that counts how often it is hashed: the split's work, not its wall time."""

    hashes = 0

    def __hash__(self) -> int:
        _CountedId.hashes += 1
        return str.__hash__(self)


def test_fixed_ids_are_looked_up_in_linear_work():
    # 2,000 ids with 300 named for test and 300 for val: the ids outside them were found by
    # rebuilding the set of named ids for every id (2,000 x 600 hashes); TGS Salt's 4,000 or
    # 50,000 slide tiles with an official test list took seconds to minutes.
    ids = [_CountedId(f"img_{i:05d}") for i in range(2000)]
    _CountedId.hashes = 0
    split = make_split(ids, 0, 0.15, 0.15, test_ids=ids[:300], val_ids=ids[300:600])
    assert split["test"] == ids[:300] and split["val"] == ids[300:600]
    assert _CountedId.hashes < 20 * len(ids)


def test_named_groups_are_checked_in_linear_work():
    # Each named group's other members were sought among all ids: groups x ids lookups.
    ids = [_CountedId(f"p{i // 2:04d}_{i % 2}") for i in range(2000)]
    groups = {i: i.split("_")[0] for i in ids}
    _CountedId.hashes = 0
    split = make_split(ids, 0, 0.15, 0.15, test_ids=ids[:300], groups=groups)
    assert split["test"] == ids[:300]
    assert _CountedId.hashes < 20 * len(ids)
