"""An image and its mask whose names differ in letter case alone (a folder assembled on macOS or
Windows, which show them as one name) are named as such, not only as unpaired files."""

import logging
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def _folder(root, images, masks):
    for side, stems in (("images", images), ("masks", masks)):
        (root / side).mkdir()
        for stem in stems:
            Image.fromarray(np.zeros((6, 8), np.uint8)).save(root / side / f"{stem}.png")


def test_a_case_only_difference_is_named_with_the_fix(tmp_path):
    _folder(tmp_path, ["a1", "Scan (3)"], ["a1", "scan (3)"])
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path, Layout())
    text = str(err.value)
    assert "differ only in letter case" in text
    assert "'Scan (3)' and 'scan (3)'" in text
    assert "rename" in text


def test_skipped_with_allow_unpaired_the_warning_says_why(tmp_path, caplog):
    _folder(tmp_path, ["a1", "Zellkörper_02"], ["a1", "zellkörper_02"])
    with caplog.at_level(logging.WARNING):
        found = pair_files(tmp_path, replace(Layout(), allow_unpaired=True))
    assert [i for i, *_ in found] == ["a1"]
    assert "differ only in letter case" in caplog.text


def test_unrelated_unpaired_names_get_no_case_hint(tmp_path):
    _folder(tmp_path, ["a1", "b2"], ["a1", "c3"])
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path, Layout())
    assert "letter case" not in str(err.value)
