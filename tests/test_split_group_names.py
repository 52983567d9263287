"""Split lists that name groups, not ids: DAVIS 2017's ImageSets/2017/val.txt lists sequences
(horsejump), while its frames' ids under images: 'JPEGImages/480p/{group}' are horsejump_00000."""

from __future__ import annotations

import pytest

from unet.dataset.split import SplitError, groups_of, make_split

SEQS = {"bear": 6, "car-shadow": 5, "dogs-jump": 7, "horsejump": 4, "kite-surf": 5}
IDS = [f"{s}_{t:05d}" for s, n in SEQS.items() for t in range(n)]
BY = r"^(.+)_\d+$"


def _groups() -> dict[str, str]:
    return groups_of([{"id": i, "image": i} for i in IDS], BY)


def test_a_group_name_names_its_whole_group():
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, groups=_groups(),
                   group_by=BY, test_ids=["horsejump", "kite-surf"], val_ids=["bear"])
    assert s["test"] == [i for i in IDS if i.startswith(("horsejump_", "kite-surf_"))]
    assert s["val"] == [i for i in IDS if i.startswith("bear_")]
    assert {i.rsplit("_", 1)[0] for i in s["train"]} == {"car-shadow", "dogs-jump"}


def test_an_id_still_names_only_itself():
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, groups=_groups(),
                   group_by=BY, exclude_ids=["bear_00005"])
    assert "bear_00005" not in s["train"] + s["val"] + s["test"]


def test_a_sequence_name_without_group_by_is_refused_with_the_fix():
    with pytest.raises(SplitError, match=r"horsejump_\*.*split\.group_by"):
        make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, test_ids=["horsejump"])


def test_a_folder_group_is_named_by_its_folder_name(tmp_path):
    """split.group_by: folder keys a group by its folder's path; ImageSets name the folder."""
    pairs = [{"id": i, "image": f"/data/DAVIS/JPEGImages/480p/{i.rsplit('_', 1)[0]}/x.jpg"}
             for i in IDS]
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2,
                   groups=groups_of(pairs, "folder"), test_ids=["horsejump"])
    assert s["test"] == [i for i in IDS if i.startswith("horsejump_")]
