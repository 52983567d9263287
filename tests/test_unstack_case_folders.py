"""unstack given a data set's folder of case folders (BraTS2021_Training_Data/, KiTS19's data/):
the loop over every case folder, or what lies a level down, never an invented TIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unet.cli import main

nib = pytest.importorskip("nibabel")
from tests.test_volume_modality_loops import BRATS, _run, _save, _slices  # noqa: E402


@pytest.mark.parametrize(("case", "sep", "modalities"), BRATS)
def test_a_folder_of_brats_case_folders_gets_the_loop_over_every_case(tmp_path, capsys, case,
                                                                      sep, modalities):
    # it was told to split a TIFF stack, ./a.tif, as the folder holds no file of its own (or
    # BraTS 2020's name_mapping.csv, which is none)
    root = tmp_path / "BraTS2021_Training_Data"
    for k in (0, 1):
        folder = root / case.format(k)
        folder.mkdir(parents=True)
        for m in modalities:
            _save(folder / f"{folder.name}{sep}{m}.nii.gz",
                  10 * (sorted(modalities).index(m) + 1) + k)
        _save(folder / f"{folder.name}{sep}seg.nii.gz", 2, np.uint8)
    (root / "name_mapping.csv").write_text("BraTS_2020_subject_ID\n")
    assert main(["unstack", str(root), str(tmp_path / "brats/images")]) == 2
    err = capsys.readouterr().err
    assert "a.tif" not in err and "name_mapping.csv" not in err, err
    assert f"every case folder in {root}" in err, err
    _run(err.split("named by the case: ")[1].strip(), tmp_path)
    images, masks = _slices(tmp_path / "brats/images"), _slices(tmp_path / "brats/masks")
    cases = [case.format(k) for k in (0, 1)]
    assert sorted(images) == sorted(masks) == [f"{c}_{z:03d}" for c in cases for z in range(3)]
    for stem, image in images.items():  # each case's four modalities, in name order
        k = int(stem.startswith(cases[1]))
        assert image[0, 0].tolist() == [10 * (i + 1) + k for i in range(4)], (stem, image[0, 0])


def test_other_case_folders_are_named_with_one_volume_a_call(tmp_path, capsys):
    # KiTS19's data/case_00000/imaging.nii.gz and segmentation.nii.gz: no modalities; every
    # case's files share their names, so the call names the slices after the case folder
    root = tmp_path / "data"
    for k in (0, 1):
        (root / f"case_0000{k}").mkdir(parents=True)
        _save(root / f"case_0000{k}/imaging.nii.gz", 100 + k)
        _save(root / f"case_0000{k}/segmentation.nii.gz", 1, np.uint8)
    assert main(["unstack", str(root), str(tmp_path / "kits/images")]) == 2
    err = capsys.readouterr().err
    assert "a.tif" not in err, err
    assert "case_00000 (2 .nii.gz), case_00001 (2 .nii.gz)" in err, err
    assert "one volume (or one case's channel volumes) a call" in err, err
    call = f"unet unstack {root}/case_00000/imaging.nii.gz {tmp_path}/kits/images " \
           "--name case_00000"
    assert call in err, err
    _run(call, tmp_path)
    assert sorted(_slices(tmp_path / "kits/images")) == [f"case_00000_{z:03d}" for z in range(3)]


def test_a_folder_of_mere_folders_says_so(tmp_path, capsys):
    # no file anywhere to split: the advice named a stack, a.tif, that does not exist
    (tmp_path / "empty/train").mkdir(parents=True)
    assert main(["unstack", str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "a.tif" not in err and "train" in err and "no volume or stack" in err, err
    assert not Path(tmp_path / "out").exists()
