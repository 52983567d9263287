"""The loops unstack advises, run through bash on folders whose names hold a space."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unet.cli import main
from unet.dataset.volume_notes import volume_fix

nib = pytest.importorskip("nibabel")
from tests.test_volume_label_loops import _acdc_patient, _run  # noqa: E402  (after the skip)

OUT = "acdc out/images"  # the folder given for the slices: a space too


def _pngs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def _save(path: Path, value: int, dtype: type = np.int16) -> None:
    nib.save(nib.Nifti1Image(np.full((5, 4, 3), value, dtype), np.eye(4)), path)


@pytest.mark.parametrize("given", ["ACDC 2017/training/patient001", "ACDC 2017/training"])
def test_label_loops_run_on_a_folder_with_a_space(tmp_path, capsys, given):
    # `for f in ACDC 2017/training/patient001/[!.]*.nii*` looped over "ACDC" and a glob that
    # matched nothing, and `unet unstack "$f" acdc out/images` had one argument too many
    root = tmp_path / "ACDC 2017/training"
    root.mkdir(parents=True)
    _acdc_patient(root)
    assert main(["unstack", str(tmp_path / given), str(tmp_path / OUT)]) == 2
    err = capsys.readouterr().err
    loops = err.split("split the images alone: ")[1].replace(", and the labels as masks "
                                                               "named as their image: ", "\n")
    _run(loops, tmp_path)
    images, masks = _pngs(tmp_path / OUT), _pngs(tmp_path / "acdc out/masks")
    assert len(images) == 6 and masks == images, (images, masks)


def test_a_brats_loop_runs_on_a_folder_with_a_space(tmp_path, capsys):
    root = tmp_path / "BraTS 2021/Training Data"
    for k in (0, 1):
        case = root / f"BraTS2021_{k:05d}"
        case.mkdir(parents=True)
        for m in ("flair", "t1", "t1ce", "t2"):
            _save(case / f"{case.name}_{m}.nii.gz", 10 + k)
        _save(case / f"{case.name}_seg.nii.gz", 2, np.uint8)
    assert main(["unstack", str(root), str(tmp_path / "brats out/images")]) == 2
    _run(capsys.readouterr().err.split("named by the case: ")[1].strip(), tmp_path)
    tifs = sorted(p.name for p in (tmp_path / "brats out/images").glob("*.tif"))
    assert len(tifs) == 6 and len(_pngs(tmp_path / "brats out/masks")) == 6, tifs


def test_the_loop_over_a_folder_of_volumes_runs_on_a_folder_with_a_space(tmp_path, capsys):
    folder = tmp_path / "Heart data/imagesTr"
    folder.mkdir(parents=True)
    for case in ("la_003", "la_004"):
        _save(folder / f"{case}.nii.gz", 7)
    assert main(["unstack", str(folder), str(tmp_path / "heart out")]) == 2
    _run(capsys.readouterr().err.split("share a folder: ")[1].strip(), tmp_path)
    assert len(_pngs(tmp_path / "heart out")) == 6
    # a data set's folder passed over (names.py): the loop into <folder>_slices
    fix = volume_fix([".nii.gz"], folder, "k")
    _run(fix.split("'.[nifti]'): ")[1].split(", then read")[0], tmp_path)
    assert len(_pngs(Path(f"{folder}_slices"))) == 6
