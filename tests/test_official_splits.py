"""A data set's own parts: split.val_ids fixes the validation images as test_ids fixes the test
ones, and split.exclude_ids leaves images out of every part (Cityscapes: train on train/,
validate on part of it or on val/, test on val/, and leave out test/, whose labels are
withheld)."""

from __future__ import annotations

import pytest

from unet.dataset.split import SplitError, make_split

TRAIN = [f"train_aachen_{i:03d}" for i in range(20)]
VAL = [f"val_frankfurt_{i:03d}" for i in range(6)]
TEST = [f"test_berlin_{i:03d}" for i in range(5)]
IDS = TRAIN + VAL + TEST


def test_exclude_ids_leave_images_out_of_every_part():
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, test_ids=["val_*"],
                   exclude_ids=["test_*"])
    assert s["test"] == VAL
    assert sorted(s["train"] + s["val"]) == TRAIN
    assert len(s["val"]) == 5  # val_fraction of the 26 images kept, not of all 31


def test_val_ids_fix_the_validation_images():
    s = make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, val_ids=["val_*"],
                   exclude_ids=["test_*"], test_ids=["train_aachen_00[0-4]"])
    assert s["val"] == VAL
    assert s["test"] == TRAIN[:5] and s["train"] == TRAIN[5:]
    again = make_split(IDS, seed=7, val_fraction=0.5, test_fraction=0.2, val_ids=["val_*"],
                       exclude_ids=["test_*"], test_ids=["train_aachen_00[0-4]"])
    assert again == s  # nothing left to chance


def test_val_ids_with_a_test_fraction():
    s = make_split(TRAIN + VAL, seed=0, val_fraction=0.2, test_fraction=0.25, val_ids=VAL)
    assert s["val"] == VAL and len(s["test"]) == round(0.25 * 26)
    assert sorted(s["train"] + s["test"]) == TRAIN


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"val_ids": ["nope_*"]}, r"split.val_ids entry 'nope_\*' names no id"),
        ({"exclude_ids": ["nope"]}, r"split.exclude_ids entry 'nope' names no id"),
        ({"val_ids": ["val_*"], "test_ids": ["val_frankfurt_000"]},
         r"val_frankfurt_000 is named by both split.test_ids and split.val_ids"),
        ({"val_ids": ["val_*"], "folds": 3}, r"split.val_ids.*split.folds"),
        ({"exclude_ids": ["*"]}, r"split.exclude_ids leaves no image"),
    ],
)
def test_id_lists_that_cannot_work_are_refused(kw, match):
    with pytest.raises(SplitError, match=match):
        make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, **kw)


def test_group_checks_cover_val_ids():
    groups = {i: i.rsplit("_", 1)[0] for i in IDS}
    with pytest.raises(SplitError, match=r"split.val_ids holds only part of group val_frankfurt"):
        make_split(IDS, seed=0, val_fraction=0.2, test_fraction=0.2, groups=groups,
                   val_ids=VAL[:3], exclude_ids=["test_*"], group_by="folder")


def test_id_lists_read_from_a_text_file(tmp_path):
    # VOC's ImageSets/Segmentation/val.txt: 1,449 ids, one a line, too many to paste.
    from unet.dataset.split import read_id_list

    listing = tmp_path / "val.txt"
    listing.write_text("# Pascal VOC\n" + "\n".join(VAL[:4]) + "\n\n  " + VAL[4] + "  \n")
    assert read_id_list(str(listing), "split.test_ids") == VAL[:5]
    assert read_id_list(VAL, "split.test_ids") == VAL
    with pytest.raises(SplitError, match=r"split.val_ids: no file .*nope.txt.*one id a line"):
        read_id_list(str(tmp_path / "nope.txt"), "split.val_ids")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(SplitError, match=r"split.test_ids: .*empty.txt lists no id"):
        read_id_list(str(tmp_path / "empty.txt"), "split.test_ids")


@pytest.mark.workflow
def test_an_edited_id_list_reruns_the_split(tmp_path):
    import json
    import re

    from tests.conftest import TINY, copy_workflow, snakemake
    from tests.test_local_data_rerun import _pair

    data = tmp_path / "data"
    for i in range(10):
        _pair(data, i)
    wd = copy_workflow(tmp_path / "wf")
    (wd / "test.txt").write_text("a0\na1\n")
    (wd / "local.yaml").write_text(
        f"dataset: {{name: mine, source: local, local: {{path: '{data}'}}}}\n"
        "split: {test_ids: test.txt}\n")
    args = ("results/mine/split.json", "--cores", "1", "--configfile", TINY, "local.yaml")
    snakemake(wd, *args, "--quiet")
    assert json.loads((wd / "results/mine/split.json").read_text())["test"] == ["a0", "a1"]
    (wd / "test.txt").write_text("a0\na1\na2\n")
    out = snakemake(wd, *args, "-n", "--quiet", "rules")
    assert set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "job"} == {
        "split_dataset"}


def test_an_id_file_saved_with_a_byte_order_mark_reads_its_first_id(tmp_path):
    """Excel's 'CSV UTF-8' and other Windows tools start the file with a byte-order mark: the
    first id was read as '\\ufeffc(1)' and refused as naming no image."""
    from unet.dataset.split import read_id_list

    (tmp_path / "ids.txt").write_bytes("\ufeffc(1)\r\nplain\r\n".encode())
    assert read_id_list(str(tmp_path / "ids.txt"), "split.test_ids") == ["c(1)", "plain"]
