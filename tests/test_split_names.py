"""How split.test_ids, val_ids and exclude_ids entries name ids: an entry equal to an id names
that id, even with [ ] * ? in it; numbers YAML made of unquoted ids are refused by name."""

import pytest

from unet.dataset.split import SplitError, make_split

IDS = ["img[1]", "img1", "img2", "img3", "img4", "img5", "img6", "img7"]


@pytest.mark.parametrize("key", ["test_ids", "val_ids", "exclude_ids"])
def test_an_entry_equal_to_an_id_names_only_that_id(key):
    # img[1] as a pattern matches img1: the id img[1] went unnamed and img1 was taken instead.
    s = make_split(IDS, 0, 0.25, 0.25, **{key: ["img[1]"]})
    kept = sorted(i for part in ("train", "val", "test") for i in s[part])
    if key == "exclude_ids":
        assert kept == sorted(set(IDS) - {"img[1]"})
    else:
        assert s[key[:-4]] == ["img[1]"] and "img1" in kept


def test_an_entry_that_is_no_id_is_still_a_pattern():
    s = make_split(IDS, 0, 0.25, 0.25, test_ids=["img[23]"])
    assert s["test"] == ["img2", "img3"]


@pytest.mark.parametrize("entry, spelled", [(11, "1_1"), (131, "0203"), (1035, "02_013")])
def test_a_number_that_names_no_id_says_yaml_read_it_as_a_number(entry, spelled):
    ids = ["1_1", "1_2", "0203", "02_013", "a", "b", "c", "d"]
    with pytest.raises(SplitError, match=rf"split.test_ids entry {entry}.*YAML read.*number"
                                         r".*quote"):
        make_split(ids, 0, 0.25, 0.25, test_ids=[entry])
    assert spelled in ids  # the id the user meant, which quoting reaches
    assert make_split(ids, 0, 0.25, 0.25, test_ids=[spelled])["test"] == [spelled]


def test_a_number_that_is_an_id_still_names_it():
    ids = [str(i) for i in range(10)]
    assert make_split(ids, 0, 0.2, 0.2, exclude_ids=[3])["test"] != ["3"]
    assert make_split(ids, 0, 0.2, 0.2, test_ids=[3, 4])["test"] == ["3", "4"]
