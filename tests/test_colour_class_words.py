"""Colour masks (CamVid, Cityscapes' *_gtFine_color.png) keep each class as a packed 0xRRGGBB
integer inside. The warning of a class the training masks lack and the refusal of training
masks without any object named it so: "class 4 (value 15999976)" for Cityscapes' sidewalk
[244, 35, 232], a number the config nowhere holds. They now name the colour as the config
writes it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cache.class_checks import _check_learnable
from unet.cache.lost_classes import absent_class_notes
from unet.common.labels import MaskMapping, MaskValueError

ROAD, SKY, SIDEWALK = (128, 64, 128), (70, 130, 180), (244, 35, 232)


def _packed(rgb: tuple[int, int, int]) -> int:
    return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]


def _mapping() -> MaskMapping:
    return MaskMapping(tuple(_packed(c) for c in (ROAD, SKY, SIDEWALK)), rgb=True)


def _mask(path, colours) -> str:
    rgb = np.zeros((8, 8, 3), np.uint8)
    for row, colour in enumerate(colours):
        rgb[row * 4:(row + 1) * 4] = colour
    Image.fromarray(rgb).save(path)
    return str(path)


def test_an_absent_colour_class_is_named_by_its_colour(tmp_path):
    mask = _mask(tmp_path / "a_gtFine_color.png", [ROAD, SKY])
    note = absent_class_notes([2], _mapping(), [mask], None, None)[2]
    assert "class 2 (value [244, 35, 232])" in note and str(_packed(SIDEWALK)) not in note


def test_masks_without_any_object_name_the_colours(tmp_path):
    mask = _mask(tmp_path / "a_gtFine_color.png", [ROAD, ROAD])
    counts = np.zeros(256, np.int64)
    counts[0] = 64
    with pytest.raises(MaskValueError, match=r"\[70, 130, 180\], \[244, 35, 232\]") as err:
        _check_learnable(counts, _mapping(), [mask])
    assert str(_packed(SKY)) not in str(err.value)
