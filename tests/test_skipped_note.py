"""The note on files passed over for their extension, for files that are no images at all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from unet.dataset.names import skipped_note


def test_a_data_sets_own_other_files_are_not_told_to_become_pngs():
    # Oxford-IIIT Pet ships .mat files in images/ beside its JPEGs: they are no images, and
    # the note said to "save the images as PNG or TIFF" on every run
    note = skipped_note("images", Path("pets/images"), Counter({".mat": 3}),
                        "dataset.url.image_extensions", (".jpg",))
    assert ".mat: 3" in note and "pets/images" in note
    assert "if they are images, save them as PNG or TIFF" in note
    assert "files of other kinds may stay" in note
