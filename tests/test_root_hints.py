"""Where an archive unpacks into several folders that each hold the images folder (train/ and
test/, DRIVE's training/ and test/): the hint names them all, not the first alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def _parts(root: Path, *parts: str) -> None:
    for part in parts:
        for side in ("images", "masks"):
            (root / part / side).mkdir(parents=True)
            (root / part / side / "a.png").write_bytes(b"")


def test_several_folders_holding_the_images_are_all_named(tmp_path: Path) -> None:
    # The hint said "test/images exists: set dataset.url.root: 'test'", 'test' sorting
    # before 'train': followed, it trained on the test part, never naming train/.
    _parts(tmp_path / "data", "test", "train")
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path / "data", Layout(section="dataset.url"))
    msg = str(err.value)
    assert "'test'" in msg and "'train'" in msg and "set dataset.url.root: 'test'" not in msg
    assert "'{group}/images' for 'images'" in msg and "set dataset.url.root to the one" in msg


def test_one_folder_holding_the_images_is_still_given_as_the_root(tmp_path: Path) -> None:
    _parts(tmp_path / "data", "pkg_v1")
    with pytest.raises(DataLayoutError, match="set dataset.url.root: 'pkg_v1'$"):
        pair_files(tmp_path / "data", Layout(section="dataset.url"))


def test_local_folders_a_level_down_are_named_by_path(tmp_path: Path) -> None:
    _parts(tmp_path / "DRIVE", "DRIVE/test", "DRIVE/training")
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path / "DRIVE", Layout())
    msg = str(err.value)
    assert f"'{tmp_path}/DRIVE/DRIVE/test'" in msg and "DRIVE/training'" in msg
    assert "set dataset.local.path to the one" in msg
