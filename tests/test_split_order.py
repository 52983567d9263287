"""split.order: a data set that grows or loses an image keeps its other images in their parts
with `hash`; the default `shuffle` keeps the splits earlier versions made."""

from __future__ import annotations

import pytest

from unet.common.fileio import write_json
from unet.dataset.split import SPLITS, make_split, split_dataset


def _parts(split: dict) -> dict[str, str]:
    return {i: name for name in SPLITS for i in split[name]}


def _ids(n: int) -> list[str]:
    return [f"img_{i:03d}" for i in range(n)]


def test_the_default_shuffle_keeps_the_splits_made_before():
    split = make_split(_ids(20), 0, 0.2, 0.2)
    assert split["test"] == ["img_002", "img_004", "img_006", "img_019"]
    assert split["val"] == ["img_003", "img_011", "img_013", "img_016"]
    folds = make_split(_ids(20), 3, 0.2, 0.2, folds=3)["folds"]
    assert folds[1] == ["img_006", "img_007", "img_011", "img_013", "img_014"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_hash_keeps_each_image_in_its_part_when_images_are_added(seed):
    before = _parts(make_split(_ids(40), seed, 0.15, 0.15, order="hash"))
    after = _parts(make_split(_ids(42), seed, 0.15, 0.15, order="hash"))
    moved = {i: (before[i], after[i]) for i in before if before[i] != after[i]}
    # only images at a part's border move, and never a trained-on one into the test split
    assert len(moved) <= 4, moved
    assert ("train", "test") not in moved.values()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_hash_keeps_the_others_in_place_when_a_test_image_is_removed(seed):
    before = make_split(_ids(40), seed, 0.15, 0.15, order="hash")
    gone = before["test"][0]
    after = _parts(make_split([i for i in _ids(40) if i != gone], seed, 0.15, 0.15,
                              order="hash"))
    moved = [i for i, part in _parts(before).items() if i != gone and part != after[i]]
    assert len(moved) <= 2, moved
    assert not [i for i in before["train"] if after[i] == "test"]


def test_hash_is_seeded_and_keeps_the_fractions():
    ids = _ids(40)
    a = make_split(ids, 0, 0.15, 0.15, order="hash")
    assert a == make_split(list(reversed(ids)), 0, 0.15, 0.15, order="hash")
    assert a != make_split(ids, 1, 0.15, 0.15, order="hash")
    assert [len(a[k]) for k in SPLITS] == [28, 6, 6]
    assert a != make_split(ids, 0, 0.15, 0.15)  # not the shuffle's order


def test_hash_folds_keep_their_images_when_one_is_added():
    before = make_split(_ids(40), 0, 0.15, 0.15, folds=4, order="hash")
    after = make_split(_ids(41), 0, 0.15, 0.15, folds=4, order="hash")
    fold_of = [{i: k for k, f in enumerate(s["folds"]) for i in f} for s in (before, after)]
    moved = [i for i in fold_of[0] if i in fold_of[1] and fold_of[0][i] != fold_of[1][i]]
    assert len(moved) <= 4, moved
    assert max(map(len, after["folds"])) - min(map(len, after["folds"])) <= 1


def test_hash_folds_of_uneven_groups_leave_no_fold_empty():
    ids = [f"p{g}_{k}" for g, n in enumerate([20, 1, 1, 1, 1, 1, 1]) for k in range(n)]
    groups = {i: i.split("_")[0] for i in ids}
    for seed in range(6):
        split = make_split(ids, seed, 0.15, 0.05, folds=3, groups=groups, order="hash")
        assert all(split["folds"])


def test_hash_grouped_by_folder_keeps_its_split_when_the_data_moves(tmp_path):
    def manifest(root: str) -> str:
        pairs = [{"id": f"p{g}_{k}", "image": f"{root}/p{g}/p{g}_{k}.png",
                  "mask": f"{root}/m/p{g}_{k}.png"} for g in range(12) for k in range(3)]
        path = tmp_path / f"{len(root)}.json"
        write_json(path, {"root": root, "pairs": pairs})
        return str(path)

    settings = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2, "folds": 0,
                "group_by": "folder", "order": "hash"}
    here = split_dataset(manifest("/data/lgg"), tmp_path / "a.json", settings)
    moved = split_dataset(manifest("/mnt/new/place/lgg"), tmp_path / "b.json", settings)
    assert here == moved


def test_an_unknown_order_is_refused():
    with pytest.raises(ValueError, match="split.order 'random'"):
        make_split(_ids(10), 0, 0.2, 0.2, order="random")
