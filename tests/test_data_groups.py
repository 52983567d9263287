"""Parallel folders of images and masks whose names repeat from one to the next (the Cell
Tracking Challenge's sequences 01 and 02, one folder per patient): `{group}` pairs each alone
and puts its name in front of its ids."""

from __future__ import annotations

import pytest

from unet.dataset.layout import DataLayoutError, Layout, data_files
from unet.dataset.pairing import pair_files
from unet.dataset.split import SplitError, make_split

CTC = {"images": "{group}", "masks": "{group}_GT/SEG", "image_prefix": "t",
       "mask_prefix": "man_seg", "allow_unpaired": True}


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")


def _two_sequences(root):
    """Sequences 01 and 02, both with frames t000-t004 and masks for t001 and t003; a third
    sequence without annotations (a challenge test sequence)."""
    for seq in ("01", "02", "03"):
        _touch(root / seq, *(f"t{i:03d}.tif" for i in range(5)))
    for seq in ("01", "02"):
        _touch(root / f"{seq}_GT" / "SEG", "man_seg001.tif", "man_seg003.tif")
        _touch(root / f"{seq}_GT" / "TRA", "man_track001.tif")


def test_both_sequences_pair_under_their_own_names(tmp_path):
    # One data set could hold one sequence: 01/t001.tif and 02/t001.tif have one stem, and a
    # recursive search refused them as the same id.
    _two_sequences(tmp_path)
    pairs = pair_files(tmp_path, Layout(**CTC))
    assert [(i, im.relative_to(tmp_path).as_posix(), m.relative_to(tmp_path).as_posix())
            for i, im, m in pairs] == [
        ("01_001", "01/t001.tif", "01_GT/SEG/man_seg001.tif"),
        ("01_003", "01/t003.tif", "01_GT/SEG/man_seg003.tif"),
        ("02_001", "02/t001.tif", "02_GT/SEG/man_seg001.tif"),
        ("02_003", "02/t003.tif", "02_GT/SEG/man_seg003.tif"),
    ]


def test_a_change_in_any_group_is_an_input(tmp_path):
    _two_sequences(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, Layout(**CTC))}
    assert {"01/t001.tif", "02/t004.tif", "02_GT/SEG/man_seg003.tif"} <= names
    assert not any(n.startswith(("01_GT/TRA", "02_GT/TRA")) for n in names)


def test_groups_need_the_placeholder_on_both_sides_and_a_match(tmp_path):
    _two_sequences(tmp_path)
    with pytest.raises(DataLayoutError, match=r"\{group\} must appear once in images and in"):
        pair_files(tmp_path, Layout(**{**CTC, "masks": "01_GT/SEG"}))
    with pytest.raises(DataLayoutError, match=r"none has its masks folder"):
        pair_files(tmp_path, Layout(**{**CTC, "masks": "{group}_ST/SEG"}))


def test_a_patient_per_folder_with_images_and_masks_inside(tmp_path):
    for case in ("case_1", "case_2"):
        _touch(tmp_path / case / "imaging", "000.png", "001.png")
        _touch(tmp_path / case / "segmentation", "000.png", "001.png")
    layout = Layout(images="{group}/imaging", masks="{group}/segmentation")
    assert [p[0] for p in pair_files(tmp_path, layout)] == [
        "case_1_000", "case_1_001", "case_2_000", "case_2_001"]


def test_test_ids_may_name_a_whole_sequence_by_pattern():
    ids = [f"{s}_{i:03d}" for s in ("01", "02") for i in range(10)]
    split = make_split(ids, seed=0, val_fraction=0.2, test_fraction=0.1, test_ids=["02_*"])
    assert split["test"] == ids[10:] and set(split["train"] + split["val"]) == set(ids[:10])
    with pytest.raises(SplitError, match=r"entry '03_\*' names no id"):
        make_split(ids, seed=0, val_fraction=0.2, test_fraction=0.1, test_ids=["03_*"])
