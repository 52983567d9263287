"""A zero-byte image or mask (a copy that never finished) is named as empty, not as unknown."""

import numpy as np
import pytest
from PIL import Image

from unet.common.imageio import ImageReadError, open_image
from unet.common.labels import MaskMapping


def test_an_empty_image_is_called_empty(tmp_path):
    path = tmp_path / "scan (2).png"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError) as err:
        open_image(path)
    text = str(err.value)
    assert str(path) in text
    assert "is empty (0 bytes" in text  # PIL said "cannot identify image file"
    assert "Replace or remove the file" in text


def test_an_empty_mask_is_called_empty(tmp_path):
    path = tmp_path / "zellkörper_01.png"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"zellkörper_01\.png.*is empty \(0 bytes"):
        MaskMapping((0, 255)).read_index(path)


def test_a_file_with_bytes_keeps_its_own_error(tmp_path):
    path = tmp_path / "half.png"
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ImageReadError) as err:
        open_image(path)
    assert "0 bytes" not in str(err.value)
