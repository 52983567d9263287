"""Masks saved as colour JPEGs (Kvasir-SEG's): the refusal without masks.threshold names the
colours they hold as colours, not as packed 0xRRGGBB numbers."""

import numpy as np
import pytest
from PIL import Image

from unet.cache.mapping import choose_mapping
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskValueError


def test_colour_jpeg_masks_are_refused_naming_colours(tmp_path):
    masks = []
    for i in range(2):
        grey = np.zeros((24, 32), np.uint8)
        grey[6:18, 4 + i:20 + i] = 255
        rgb = np.dstack([np.clip(grey.astype(int) + 3, 0, 255), grey, grey]).astype(np.uint8)
        masks.append(str(tmp_path / f"m{i}.jpg"))
        Image.fromarray(rgb).save(masks[-1], quality=75)
    with pytest.raises(MaskValueError) as err:
        choose_mapping([{"mask": m} for m in masks], PreprocessSettings(), 1)
    text = str(err.value)
    assert "is a JPEG" in text and "masks.threshold: 127" in text
    assert "colours" in text and "(0, 0, 0)" in text
    assert "65536" not in text and "[0, " not in text  # packed values read as numbers
