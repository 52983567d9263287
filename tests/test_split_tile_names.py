"""Split lists that name tiles of the data set's images: LandCover.ai's train/val/test.txt list
512x512 tiles (M-33-20-D-c-4-2_0) that its split.py cuts from whole scenes (M-33-20-D-c-4-2)."""

from __future__ import annotations

import pytest

from unet.dataset.split import SplitError, make_split

SCENES = ["M-33-20-D-c-4-2", "M-34-5-A-d-2-3", "N-33-60-D-c-4-2", "N-34-61-B-a-1-1"]


@pytest.mark.parametrize("key", ["test_ids", "val_ids"])
def test_a_tile_of_a_scene_is_refused_naming_the_scene_and_the_fixes(key):
    # the refusal said "fix it or remove it": nothing told that the list names tiles of a
    # scene the data set holds whole, nor that the split takes whole images
    with pytest.raises(SplitError) as err:
        make_split(SCENES, seed=0, val_fraction=0.25, test_fraction=0.25,
                   **{key: ["N-33-60-D-c-4-2_17"]})
    msg = str(err.value)
    assert f"split.{key} entry 'N-33-60-D-c-4-2_17'" in msg
    assert "tile of image 'N-33-60-D-c-4-2'" in msg
    assert "whole images" in msg and "split: {" + key + ": [N-33-60-D-c-4-2]}" in msg


def test_a_name_that_is_no_tile_keeps_the_plain_refusal():
    with pytest.raises(SplitError, match="fix it or remove it"):
        make_split(SCENES, seed=0, val_fraction=0.25, test_fraction=0.25,
                   test_ids=["N-33-60-D-c-4-2_b"])
