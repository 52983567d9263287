"""The note on files passed over for their extension, for files that are no images at all."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from unet.dataset.names import skipped_note


def test_a_data_sets_own_other_files_are_not_told_to_become_pngs():
    # Oxford-IIIT Pet ships .mat files in images/ beside its JPEGs: they are no images, and
    # the note said to "save the images as PNG or TIFF" on every run
    note = skipped_note("images", Path("pets/images"), Counter({".mat": 3}),
                        "dataset.url.image_extensions", (".jpg",))
    assert ".mat: 3" in note and "pets/images" in note
    assert "if they are images, save them as PNG or TIFF" in note
    assert "files of other kinds may stay" in note


def test_a_volume_beside_exported_slices_is_named(tmp_path, caplog):
    # A patient's CT left as a .nii.gz volume among the slices exported from the others was
    # passed over without a word: the data set trained on the others alone
    import logging

    from unet.dataset.layout import Layout
    from unet.dataset.pairing import pair_files

    for side, names in (("images", ("a.tif", "b.tif", "p7.nii.gz")), ("masks", ("a.png", "b.png",
                                                                            "p7.nii.gz"))):
        (tmp_path / side).mkdir()
        for name in names:
            (tmp_path / side / name).write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        pairs = pair_files(tmp_path, Layout())
    assert [p[0] for p in pairs] == ["a", "b"]
    (note,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(tmp_path / "images" / "p7.nii.gz") in note
    assert str(tmp_path / "masks" / "p7.nii.gz") in note
    assert "export" in note and "PNG or TIFF per slice" in note


@pytest.mark.parametrize("ext", [".nrrd", ".mha", ".dcm"])
def test_nrrd_metaimage_and_dicom_passed_over_point_to_unet_unstack(tmp_path, caplog, ext):
    # they were to be exported "with nibabel or SimpleITK", though `unet unstack` splits them
    from unet.dataset.layout import DataLayoutError, Layout
    from unet.dataset.pairing import pair_files

    for side in ("images", "masks"):
        (tmp_path / side).mkdir()
        (tmp_path / side / f"p7{ext}").write_bytes(b"")
    with pytest.raises(DataLayoutError) as refused:
        pair_files(tmp_path, Layout())
    for name in ("a", "b"):
        (tmp_path / "images" / f"{name}.tif").write_bytes(b"")
        (tmp_path / "masks" / f"{name}.png").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        pair_files(tmp_path, Layout())
    (note,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for text in (str(refused.value), note):
        assert "nibabel or SimpleITK" not in text and ".[volumes]" in text, text
        loop = f"[!.]*{ext}; do unet unstack" if ext != ".dcm" else "unet unstack SERIES_FOLDER"
        assert loop in text, text
