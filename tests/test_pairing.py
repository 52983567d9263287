"""Pairing images and masks by stem; unpaired files are named in the error."""

import pytest

from unet.dataset.pairing import DataLayoutError, Layout, pair_files


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")


def test_pairs_by_stem_with_suffix(tmp_path):
    _touch(tmp_path / "train", "a.jpg", "b.jpg")
    _touch(tmp_path / "train_masks", "a_mask.gif", "b_mask.gif")
    pairs = pair_files(tmp_path, Layout(images="train", masks="train_masks", mask_suffix="_mask"))
    assert [(i, im.name, m.name) for i, im, m in pairs] == [
        ("a", "a.jpg", "a_mask.gif"), ("b", "b.jpg", "b_mask.gif")]


def test_unpaired_files_are_named(tmp_path):
    _touch(tmp_path / "images", "a.png", "b.png", "lonely.png")
    _touch(tmp_path / "masks", "a.png", "b.png", "orphan.png")
    with pytest.raises(DataLayoutError, match=r"lonely\.png.*orphan\.png.*allow_unpaired"):
        pair_files(tmp_path, Layout())
    pairs = pair_files(tmp_path, Layout(allow_unpaired=True))
    assert [p[0] for p in pairs] == ["a", "b"]


def test_missing_folder_names_the_key(tmp_path):
    with pytest.raises(DataLayoutError, match="does not exist.*dataset.local"):
        pair_files(tmp_path / "nowhere", Layout())


def test_empty_folder(tmp_path):
    _touch(tmp_path / "images")
    _touch(tmp_path / "masks")
    with pytest.raises(DataLayoutError, match="no image/mask pairs"):
        pair_files(tmp_path, Layout())
