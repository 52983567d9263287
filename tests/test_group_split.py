"""Grouped splits: the slices of one patient (one subfolder, or one id prefix) stay in one
split part, so no patient is both trained on and tested on."""

from pathlib import Path

import pytest

from unet.common.fileio import read_json, write_json
from unet.dataset.split import SplitError, groups_of, make_split, split_dataset

# 12 patients with 2 to 7 slices each, LGG-style ids: TCGA_<site>_<patient>_<date>_<slice>
SIZES = [2, 7, 3, 5, 4, 6, 2, 3, 5, 4, 7, 2]
PAIRS = [{"id": f"TCGA_CS_{p:04d}_2001_{s}", "image": f"/data/kaggle_3m/P{p}/TCGA_{p}_{s}.tif"}
         for p, n in enumerate(SIZES) for s in range(n)]
IDS = [pair["id"] for pair in PAIRS]


def _part_of(split: dict) -> dict[str, str]:
    return {i: name for name in ("train", "val", "test") for i in split[name]}


@pytest.mark.parametrize("group_by", ["folder", r"^TCGA_[A-Z]+_\d+"])
def test_no_group_straddles_two_parts(group_by):
    groups = groups_of(PAIRS, group_by)
    assert len(set(groups.values())) == 12
    for seed in range(5):
        split = make_split(IDS, seed, 0.2, 0.2, groups=groups)
        part = _part_of(split)
        for g in set(groups.values()):
            assert len({part[i] for i in IDS if groups[i] == g}) == 1, (seed, g)
        assert sorted(part) == sorted(IDS)
        # whole patients, as near the fractions as they allow (50 slices: 10 test, 10 val)
        assert 7 <= len(split["test"]) <= 13 and 7 <= len(split["val"]) <= 13


def test_grouped_split_is_seeded_and_order_free():
    groups = groups_of(PAIRS, "folder")
    a = make_split(IDS, 3, 0.2, 0.2, groups=groups)
    assert a == make_split(list(reversed(IDS)), 3, 0.2, 0.2, groups=groups)
    assert a != make_split(IDS, 4, 0.2, 0.2, groups=groups)


def test_grouped_folds_keep_patients_whole_and_balanced():
    groups = groups_of(PAIRS, "folder")
    split = make_split(IDS, 0, 0.2, 0.2, folds=3, groups=groups)
    fold_of = {i: k for k, fold in enumerate(split["folds"]) for i in fold}
    for g in set(groups.values()):
        members = [i for i in IDS if groups[i] == g and i not in split["test"]]
        assert len({fold_of[i] for i in members}) <= 1
    sizes = sorted(len(f) for f in split["folds"])
    assert sizes[-1] - sizes[0] <= 2


def test_ids_the_pattern_does_not_match_are_named():
    with pytest.raises(SplitError, match=r"split\.group_by.*'odd_one'"):
        groups_of([*PAIRS, {"id": "odd_one", "image": "/x/odd_one.tif"}], r"^TCGA_[A-Z]+_\d+")


def test_one_folder_for_everything_is_refused():
    flat = [{"id": p["id"], "image": f"/data/images/{p['id']}.tif"} for p in PAIRS]
    with pytest.raises(SplitError, match=r"split\.group_by: folder.*one group.*recursive"):
        make_split(IDS, 0, 0.2, 0.2, groups=groups_of(flat, "folder"))


def test_test_ids_that_split_a_group_are_refused():
    groups = groups_of(PAIRS, "folder")
    with pytest.raises(SplitError, match=r"split\.test_ids.*part of group .*P0"):
        make_split(IDS, 0, 0.2, 0.2, test_ids=[IDS[0]], groups=groups)
    whole = [i for i in IDS if groups[i] == groups[IDS[0]]]
    assert make_split(IDS, 0, 0.2, 0.2, test_ids=whole, groups=groups)["test"] == whole


def test_split_dataset_records_the_groups(tmp_path: Path):
    write_json(tmp_path / "manifest.json", {"pairs": PAIRS})
    settings = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2, "test_ids": [],
                "folds": 0, "group_by": "folder"}
    split = split_dataset(tmp_path / "manifest.json", tmp_path / "split.json", settings)
    counts = read_json(tmp_path / "split.json")["groups"]
    assert sum(counts.values()) == 12 and min(counts.values()) >= 1
    assert counts == {k: len({Path(p["image"]).parent for p in PAIRS if p["id"] in split[k]})
                      for k in ("train", "val", "test")}


def test_a_broken_expression_names_the_key():
    with pytest.raises(SplitError, match=r"split\.group_by '\(TCGA' is not a regular expression"):
        groups_of(PAIRS, "(TCGA")


@pytest.mark.parametrize("folds", [0, 3])
def test_without_groups_the_split_is_the_one_by_image(folds):
    # Existing data sets keep their split.json id for id: order = the seeded permutation of the
    # sorted ids, test its head, then val (or folds dealt round robin), train the rest.
    import numpy as np

    ids = sorted(IDS)
    order = [ids[k] for k in np.random.default_rng(7).permutation(len(ids))]
    split = make_split(IDS, 7, 0.2, 0.2, folds=folds)
    assert split["test"] == sorted(order[:10])
    if folds:
        assert split["folds"] == [sorted(order[10:][k::folds]) for k in range(folds)]
    else:
        assert split["val"] == sorted(order[10:20]) and split["train"] == sorted(order[20:])


def test_more_folds_than_groups_is_refused_counting_groups():
    pairs = [{"id": f"p{g}_{s}", "image": f"/d/p{g}/{s}.png"} for g in range(4) for s in range(6)]
    groups = groups_of(pairs, "folder")
    with pytest.raises(SplitError, match=r"split\.folds=5 needs .* in 5 groups; there are \d+ in "
                                         r"\d groups"):
        make_split([p["id"] for p in pairs], 0, 0.2, 0.2, folds=5, groups=groups)


@pytest.mark.parametrize(("patients", "fractions", "message"), [
    # Blamed the fractions ("the train split is empty (8 images, val_fraction=0.4 ...)"): two
    # patients cannot fill train, val and test whatever the fractions.
    (2, (0.4, 0.4), r"split.group_by 'folder' makes 2 groups of the 8 images.*each of train, "
                    r"val and test needs one"),
    (4, (0.25, 0.05), r"test split is empty.*4 groups.*smallest group holds 4 images.*"
                      r"test_fraction=0.05 asks for 1"),
])
def test_an_empty_part_of_a_grouped_split_says_how_the_groups_fall(patients, fractions, message):
    ids = [f"p{p}_{s}" for p in range(patients) for s in range(4)]
    groups = {i: i[:2] for i in ids}
    with pytest.raises(SplitError, match=message):
        make_split(ids, 0, *fractions, groups=groups)


def test_the_readme_s_one_volume_recipe_leaves_no_validation_slice_beside_training():
    """README's block split of one volume, run on Lucchi's real depth (165 slices a stack):
    an inner validation block would sit beside training slices, 5 nm apart."""
    import re

    import yaml

    text = (Path(__file__).parents[1] / "README.md").read_text()
    recipe = text.split("One volume's slices (Lucchi's", 1)[1].split("\n\n", 1)[0]
    group_by = re.search(r"`group_by: '(.+?)'`", recipe).group(1)
    keys = yaml.safe_load(re.search(r"`(\{val_ids:.+?\})`", recipe, re.S).group(1))
    pairs = [{"id": f"{v}_{k:03d}", "image": f"em/images/{v}_{k:03d}.png"}
             for v in ("training", "testing") for k in range(165)]
    split = make_split([p["id"] for p in pairs], 0, 0.1, 0.0, groups=groups_of(pairs, group_by),
                       group_by=group_by, **keys)
    slice_of = {"train": set(), "val": set()}
    for part, held in slice_of.items():
        held.update(int(i[-3:]) for i in split[part] if i.startswith("training"))
    assert slice_of["val"] and not any(
        k - 1 in slice_of["train"] or k + 1 in slice_of["train"] for k in slice_of["val"]), split
    assert set(split["test"]) == {p["id"] for p in pairs if p["id"].startswith("testing")}
