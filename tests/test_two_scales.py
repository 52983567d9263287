"""Binary masks saved at two scales, some 0/1 and others 0/255 (CVPPP's _fg files): one
foreground, not a class 1 and a void 255."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.conftest import PAIR_SIZE, write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings


def _warnings(tmp_path, caplog, tops: list[tuple[int, ...]]) -> str:
    """Preprocess four pairs whose masks hold `tops[i]` (a square each) on 0; the warnings."""
    pairs = []
    for i, top in enumerate(tops):
        mask = np.zeros(PAIR_SIZE[::-1], np.uint8)
        for k, v in enumerate(top):
            mask[5:20, 5 + 10 * k:15 + 10 * k] = v
        pairs.append(write_pair(tmp_path, i, mask=mask))
    write_inputs(tmp_path, pairs)
    with caplog.at_level(logging.WARNING):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=40, height=30))
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_masks_of_0_1_beside_masks_of_0_255_are_told_to_threshold(tmp_path, caplog):
    said = _warnings(tmp_path, caplog, [(255,), (1,), (255,), (1,)])
    assert "masks.threshold: 0" in said and "masks.ignore: 255" not in said, said
    assert str(tmp_path / "msk0.png") in said and str(tmp_path / "msk1.png") in said, said


@pytest.mark.parametrize("tops", [[(1, 255), (1,), (1, 255), (1,)], [(1, 255)] * 4])
def test_a_mask_holding_both_still_reads_255_as_a_void(tmp_path, caplog, tops):
    said = _warnings(tmp_path, caplog, tops)
    assert "masks.ignore: 255" in said and "two scales" not in said, said
