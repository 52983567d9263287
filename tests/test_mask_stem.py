"""dataset.local.mask_stem: a mask named with a word inside its image's stem (KITTI Road's
um_000000.png beside gt_image_2/um_road_000000.png) pairs through a regular expression and a
replacement; prefix and suffix could not say it, and every image was refused as unpaired."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.common.schema import defaults
from unet.dataset.json_masks import unset_tables_dropped
from unet.dataset.layout import DataLayoutError, Layout, layout_from
from unet.dataset.pairing import pair_files

KITTI = (r"(.+)_(\d+)", r"\1_road_\2")


def _kitti(root: Path, lane: bool = True) -> Path:
    """KITTI Road's training layout: um/umm/uu images, road masks, um's lane masks."""
    for sub in ("image_2", "gt_image_2"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rgb = np.zeros((5, 7, 3), np.uint8)
    for cat in ("um", "umm", "uu"):
        for k in range(2):
            Image.fromarray(rgb).save(root / "image_2" / f"{cat}_{k:06d}.png")
            Image.fromarray(rgb).save(root / "gt_image_2" / f"{cat}_road_{k:06d}.png")
            if lane and cat == "um":
                Image.fromarray(rgb).save(root / "gt_image_2" / f"{cat}_lane_{k:06d}.png")
    return root


def _layout(**kw) -> Layout:
    return Layout(images="image_2", masks="gt_image_2", **kw)


def test_infix_mask_names_pair_and_lane_masks_are_named(tmp_path, caplog):
    root = _kitti(tmp_path)
    with caplog.at_level(logging.WARNING):
        pairs = pair_files(root, _layout(mask_stem=KITTI))
    assert [(i, img.name, m.name) for i, img, m in pairs][:3] == [
        ("um_000000", "um_000000.png", "um_road_000000.png"),
        ("um_000001", "um_000001.png", "um_road_000001.png"),
        ("umm_000000", "umm_000000.png", "umm_road_000000.png")]
    assert len(pairs) == 6
    assert "um_lane_000000.png" in caplog.text  # pair with nothing: named, not refused


def test_image_without_its_mask_is_refused_naming_the_mask_stem(tmp_path):
    root = _kitti(tmp_path)
    (root / "gt_image_2" / "uu_road_000001.png").unlink()
    with pytest.raises(DataLayoutError, match=r"uu_000001\.png.*uu_road_000001"):
        pair_files(root, _layout(mask_stem=KITTI))


def test_id_the_pattern_misses_is_refused_naming_the_key(tmp_path):
    root = _kitti(tmp_path)
    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(root / "image_2" / "calib.png")
    with pytest.raises(DataLayoutError, match=r"calib\.png.*mask_stem\.pattern"):
        pair_files(root, _layout(mask_stem=KITTI))
    assert len(pair_files(root, _layout(mask_stem=KITTI, allow_unpaired=True))) == 6


@pytest.mark.parametrize("stem, key", [(("(.+", r"\1"), "pattern"), (("(.+)", r"\2"), "replace")])
def test_bad_expression_or_replacement_is_refused(tmp_path, stem, key):
    with pytest.raises(DataLayoutError, match=f"mask_stem.{key}"):
        pair_files(_kitti(tmp_path), _layout(mask_stem=stem))


def test_mask_suffix_beside_mask_stem_is_refused(tmp_path):
    with pytest.raises(DataLayoutError, match="mask_suffix.*mask_stem"):
        pair_files(_kitti(tmp_path), _layout(mask_stem=KITTI, mask_suffix="_road"))


def test_config_section_gives_the_layout_and_no_param_until_set():
    local = {**defaults("dataset", "local"), "images": "image_2", "masks": "gt_image_2"}
    assert layout_from(local, "local").mask_stem == ("", "")
    assert "mask_stem" not in unset_tables_dropped(local)  # older data sets stay fresh
    kitti = {**local, "mask_stem": {"pattern": KITTI[0], "replace": KITTI[1]}}
    assert layout_from(kitti, "local").mask_stem == KITTI
    assert unset_tables_dropped(kitti)["mask_stem"] == kitti["mask_stem"]


def test_shared_folder_pairs_by_mask_stem_alone(tmp_path):
    # one folder of images and masks: the refusal asked for a mask_suffix, which mask_stem
    # refuses beside it; the mask stem tells them apart
    root = _kitti(tmp_path, lane=False)
    for mask in (root / "gt_image_2").iterdir():
        mask.rename(root / "image_2" / mask.name)
    pairs = pair_files(root, Layout(images="image_2", masks="image_2", mask_stem=KITTI))
    assert [(i, m.name) for i, _, m in pairs][:2] == [
        ("um_000000", "um_road_000000.png"), ("um_000001", "um_road_000001.png")]
    assert len(pairs) == 6
