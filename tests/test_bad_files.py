"""Several unreadable files found where every file is opened anyway: one error names them all."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.common.bad_files import raise_all
from unet.common.imageio import ImageReadError
from unet.common.labels import MaskValueError
from unet.dataset.download import download_dataset


def test_every_unreadable_image_of_a_local_folder_is_named_at_once(tmp_path):
    """Images that are not images (a failed copy, an HTML error page saved as .png) stopped
    download_dataset at the first; each fix and rerun found the next."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(5):
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "images" / f"a{i}.png")
        Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "masks" / f"a{i}.png")
    for i in (0, 2, 3):
        (tmp_path / "images" / f"a{i}.png").write_bytes(b"<html>not found</html>")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks"}
    with pytest.raises(ImageReadError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 images cannot be read")
    assert all(f"a{i}.png" in text for i in (0, 2, 3)) and "a1.png" not in text
    assert text.count("Replace or remove") == 1
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_one_error_is_raised_as_it_was_and_mixed_kinds_as_a_value_error():
    one = MaskValueError("mask a.png holds values [7]")
    with pytest.raises(MaskValueError) as err:
        raise_all([("a", one)])
    assert err.value is one
    mixed = [("b", ImageReadError("cannot read image b.png", "Replace it")), ("a", one)]
    with pytest.raises(ValueError, match=r"2 pairs cannot be cached:\n  mask a\.png") as err:
        raise_all(mixed)
    assert type(err.value) is ValueError
