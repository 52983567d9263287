"""A JPEG mask read with listed values: the refusal says what the smear is and how to read it."""


import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping, MaskValueError


def _jpeg_mask(path) -> None:
    """A 0/255 disc saved as JPEG: its edges smear into 1..254."""
    yy, xx = np.mgrid[:90, :120]
    disc = ((xx - 60) ** 2 + (yy - 45) ** 2 < 30**2).astype(np.uint8) * 255
    Image.fromarray(disc).save(path, quality=75)


def _refusal(path) -> str:
    with pytest.raises(MaskValueError) as err:
        MaskMapping((0, 255)).read_index(path)
    return str(err.value)


def test_unlisted_values_are_counted_not_cut_to_eight(tmp_path):
    path = tmp_path / "cell.jpg"
    _jpeg_mask(path)
    raw = np.asarray(Image.open(path))
    stray = np.unique(raw[(raw != 0) & (raw != 255)])
    assert len(stray) > 8  # the smear spans far more than the eight values shown
    text = _refusal(path)
    # the first values shown, then how many there are and their span
    assert f"{len(stray)} values, {stray.min()} to {stray.max()}" in text


def test_a_jpeg_mask_is_named_as_lossy_with_the_threshold_first(tmp_path):
    path = tmp_path / "Zellkörper (2).JPG"
    _jpeg_mask(path)
    text = _refusal(path)
    assert "a JPEG mask's lossy compression smears" in text
    # the binarising fix comes before the advice to list the smear as classes
    assert text.index("masks.threshold: 127") < text.index("add them to masks.values")


def test_a_png_mask_is_not_called_a_jpeg(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.array([[0, 7, 255]], np.uint8)).save(path)
    text = _refusal(path)
    assert "JPEG" not in text.split(";")[0]
    assert "holds values [7] on 1 px" in text


def test_listed_values_past_eight_in_memory():
    raw = np.arange(0, 40, dtype=np.uint8).reshape(4, 10)
    with pytest.raises(MaskValueError, match=r"\[1, 2, 3, 4, 5, 6, 7, 8, \.\.\.\] \(39 values, 1 "
                       r"to 39\)"):
        MaskMapping((0, 255)).to_index(raw, source="mask b.png")
