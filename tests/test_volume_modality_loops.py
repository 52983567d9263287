"""The loop unstack advises for a folder of cases' modality volumes (BraTS, nnU-Net)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cli import main
from unet.dataset.volume_notes import volume_fix

nib = pytest.importorskip("nibabel")
from tests.test_volume_label_loops import UNET  # noqa: E402  (after nibabel's skip)

SHAPE = (5, 4, 3)  # x, y, z: 3 slices a case


def _save(path: Path, value: int, dtype: type = np.int16) -> None:
    nib.save(nib.Nifti1Image(np.full(SHAPE, value, dtype), np.eye(4)), path)


def _run(loop: str, cwd: Path) -> None:
    done = subprocess.run(["bash", "-c", UNET + loop], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr


def _slices(folder: Path) -> dict[str, np.ndarray]:
    """A folder's slices by stem, as stored (TIFF channels last)."""
    read = {".tif": tifffile.imread, ".png": lambda p: np.asarray(Image.open(p))}
    return {p.stem: read[p.suffix](p) for p in sorted(folder.iterdir()) if p.suffix in read}


# BraTS 2021 (and 2020): <case>_flair ...; BraTS 2023: <case>-t1c ..., its label <case>-seg;
# the modalities in a shuffled order on disk, the advice in name order
BRATS = [("BraTS2021_{:05d}", "_", ["t2", "flair", "t1ce", "t1"]),
         ("BraTS-GLI-{:05d}-000", "-", ["t2w", "t1c", "t2f", "t1n"])]


@pytest.mark.parametrize(("case", "sep", "modalities"), BRATS)
def test_a_brats_case_folder_gets_one_call_per_case_joining_its_modalities(
        tmp_path, capsys, case, sep, modalities):
    # the advice split each modality as an image of its own (BraTS2021_00000_flair_000 ...),
    # and the _seg slices, named by the case, paired with none of them
    root = tmp_path / "Training_Data"
    for k in (0, 1):
        folder = root / case.format(k)
        folder.mkdir(parents=True)
        for m in modalities:  # a modality's value: 10 x its place in name order, + the case
            _save(folder / f"{folder.name}{sep}{m}.nii.gz", 10 * (sorted(modalities).index(m)
                                                                + 1) + k)
        _save(folder / f"{folder.name}{sep}seg.nii.gz", 2, np.uint8)
    assert main(["unstack", str(root / case.format(0)), str(tmp_path / "brats/images")]) == 2
    err = capsys.readouterr().err
    assert ", ".join(sorted(modalities)) in err, err  # the modalities found, in the order used
    _run(err.split("named by the case: ")[1].strip(), tmp_path)
    images = _slices(tmp_path / "brats/images")
    masks = _slices(tmp_path / "brats/masks")
    cases = [case.format(k) for k in (0, 1)]
    assert sorted(images) == sorted(masks) == [f"{c}_{z:03d}" for c in cases for z in range(3)]
    for stem, image in images.items():  # rows along y, columns along x, channels last
        k = int(stem.startswith(cases[1]))
        assert image.shape == (4, 5, 4), (stem, image.shape)
        assert image[0, 0].tolist() == [10 * (i + 1) + k for i in range(4)], (stem, image[0, 0])
    assert all((m == 2).all() for m in masks.values())


@pytest.mark.parametrize("channels", [1, 2])
def test_nnunet_images_get_one_call_per_case_named_as_its_label(tmp_path, capsys, channels):
    # a loop over every file split la_003_0000 alone, as la_003_0000_000 ..., which paired
    # with no slice of labelsTr/la_003, and two channels into one name, the second refused
    for folder in ("imagesTr", "labelsTr"):
        (tmp_path / folder).mkdir()
    for k, case in enumerate(("la_003", "la_004")):
        for c in range(channels):
            _save(tmp_path / f"imagesTr/{case}_{c:04d}.nii.gz", 100 * (c + 1) + k)
        _save(tmp_path / f"labelsTr/{case}.nii.gz", 1, np.uint8)
    assert main(["unstack", str(tmp_path / "imagesTr"), str(tmp_path / "heart/images")]) == 2
    err = capsys.readouterr().err
    assert ", ".join(f"{c:04d}" for c in range(channels)) in err, err
    _run(err.split("named by the case: ")[1].strip(), tmp_path)
    images, masks = _slices(tmp_path / "heart/images"), _slices(tmp_path / "heart/masks")
    assert sorted(images) == sorted(masks) == [f"la_00{c}_{z:03d}" for c in (3, 4)
                                               for z in range(3)], (images.keys(), masks.keys())
    k = [int(s.startswith("la_004")) for s in images]
    assert [np.atleast_1d(im[0, 0]).tolist() for im in images.values()] == [
        [100 * (c + 1) + j for c in range(channels)] for j in k]


def test_a_data_set_of_brats_case_folders_is_advised_over_every_case(tmp_path):
    folder = tmp_path / "BraTS2021_00000"
    folder.mkdir()
    for m in ("flair", "t1", "t1ce", "t2", "seg"):
        (folder / f"BraTS2021_00000_{m}.nii.gz").write_bytes(b"")
    fix = volume_fix([".nii.gz"], folder, "k")
    assert f"for f in {tmp_path}/*/[!.]*_flair.nii.gz" in fix, fix  # the cases beside it too
    assert f"{tmp_path}_images --name" in fix and f"{tmp_path}_masks --name" in fix, fix


def test_numbered_cases_that_are_no_channels_keep_the_loop_over_every_volume(tmp_path):
    # AMOS's cases amos_0001, amos_0004 end in 4 digits too, but count from 1 and skip
    for case in ("amos_0001", "amos_0004"):
        (tmp_path / f"{case}.nii.gz").write_bytes(b"")
    fix = volume_fix([".nii.gz"], tmp_path, "k")
    assert f"for f in {tmp_path}/[!.]*.nii*; do unet unstack" in fix, fix


def test_one_prefix_counted_from_0000_is_cases_not_one_case_of_channels(tmp_path):
    # scan_0000 ... scan_0005, a volume a scan and no labelsTr/scan: the advice joined all six
    # as one image's channels named 'scan'; one prefix alone cannot tell channels from cases
    for k in range(6):
        (tmp_path / f"scan_{k:04d}.nii.gz").write_bytes(b"")
    fix = volume_fix([".nii.gz"], tmp_path, "k")
    assert f"for f in {tmp_path}/[!.]*.nii*; do unet unstack" in fix, fix
    assert "--name" not in fix, fix


def test_one_case_of_channels_is_told_by_its_label(tmp_path):
    # imagesTr/prostate_00_0000, _0001 beside labelsTr/prostate_00: channels of that case
    for folder in ("imagesTr", "labelsTr"):
        (tmp_path / folder).mkdir()
    for c in range(2):
        (tmp_path / f"imagesTr/prostate_00_{c:04d}.nii.gz").write_bytes(b"")
    (tmp_path / "labelsTr/prostate_00.nii.gz").write_bytes(b"")
    fix = volume_fix([".nii.gz"], tmp_path / "imagesTr", "k")
    assert '"$d/${c}_0000.nii.gz" "$d/${c}_0001.nii.gz"' in fix, fix
