"""The loops unstack's refusals advise for a folder whose label volumes lie beside its images."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from unet.cli import main
from unet.dataset.volume_notes import volume_fix

nib = pytest.importorskip("nibabel")
# `unet` as the shell runs it, from this checkout
UNET = f"unet() {{ {sys.executable} -c 'import sys; from unet.cli import main; " \
       "sys.exit(main(sys.argv[1:]))' \"$@\"; }\n"


def _acdc_patient(root: Path) -> Path:
    """ACDC's patient folder: ED and ES frames, their _gt labels and the 4-D cine."""
    folder = root / "patient001"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for frame in ("01", "12"):
        nib.save(nib.Nifti1Image(rng.integers(0, 600, (6, 5, 3)).astype(np.int16), np.eye(4)),
                 folder / f"patient001_frame{frame}.nii.gz")
        nib.save(nib.Nifti1Image(rng.integers(0, 4, (6, 5, 3)).astype(np.uint8), np.eye(4)),
                 folder / f"patient001_frame{frame}_gt.nii.gz")
    cine = nib.Nifti1Image(rng.integers(0, 600, (6, 5, 3, 30)).astype(np.int16), np.eye(4))
    cine.header.set_xyzt_units("mm", "sec")
    nib.save(cine, folder / "patient001_4d.nii.gz")
    return folder


def test_a_folder_of_frames_and_gt_labels_gets_loops_that_keep_them_apart(tmp_path, capsys):
    # the advised `for f in patient001/[!.]*.nii*` split the _gt labels in with the images
    folder = _acdc_patient(tmp_path)
    assert main(["unstack", str(folder), str(tmp_path / "acdc/images")]) == 2
    err = capsys.readouterr().err
    assert "_gt" in err and "--name" in err, err
    images = err.split("split the images alone: ")[1].split(", and the labels")[0]
    masks = err.split("named as their image: ")[1].strip()
    subprocess.run(["bash", "-c", UNET + images + "\n" + masks], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                   capture_output=True)
    got = {side: sorted(p.name for p in (tmp_path / "acdc" / side).glob("*.png"))
           for side in ("images", "masks")}
    assert not any("_gt" in n or "_4d" in n for n in got["images"]), got
    assert len(got["images"]) == 6 and got["masks"] == got["images"], got  # pair by stem


def _run(loops: str, cwd: Path) -> str:
    """Run the advised loops through bash with this checkout's `unet`; their stderr."""
    done = subprocess.run(["bash", "-c", UNET + loops], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("given", ["training/patient001", "training"])
def test_acdc_loops_leave_the_cine_out(tmp_path, capsys, given):
    # the images loop handed each patient's _4d cine to unstack, one time-series refusal a
    # patient; the folder of patient folders was advised `unet unstack .../patient001_4d...`
    root = tmp_path / "training"
    root.mkdir()
    _acdc_patient(root)
    assert main(["unstack", str(tmp_path / given), str(tmp_path / "acdc/images")]) == 2
    err = capsys.readouterr().err
    assert "_4d" in err and "_4d.nii.gz " not in err, err  # said why, not a call on it
    loops = err.split("split the images alone: ")[1].replace(", and the labels as masks "
                                                               "named as their image: ", "\n")
    said = _run(loops, tmp_path)
    assert "time series" not in said and "unet unstack:" not in said, said  # no refusal
    got = {side: sorted(p.name for p in (tmp_path / "acdc" / side).glob("*.png"))
           for side in ("images", "masks")}
    assert len(got["images"]) == 6 and got["masks"] == got["images"], got


def test_a_folder_of_images_alone_keeps_the_loop_over_every_volume(tmp_path, capsys):
    # the Decathlon's imagesTr holds no labels (they are in labelsTr): one loop is right there
    # (nnU-Net's <case>_0000 files: test_volume_modality_loops)
    (tmp_path / "imagesTr").mkdir()
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 2), np.int16), np.eye(4)),
             tmp_path / "imagesTr/la_003.nii.gz")
    assert main(["unstack", str(tmp_path / "imagesTr"), str(tmp_path / "images")]) == 2
    err = capsys.readouterr().err
    assert "imagesTr/[!.]*.nii*; do unet unstack" in err and "label volumes" not in err, err


def test_volumes_passed_over_in_a_data_set_name_the_labels_beside_them(tmp_path):
    folder = _acdc_patient(tmp_path)
    fix = volume_fix([".nii.gz"], folder, "dataset.local.image_extensions")
    assert 'case "$f" in *_gt.nii*|*_4d.nii*) continue;; esac' in fix, fix
    assert "patient001_masks" in fix, fix
    case = tmp_path / "case"
    case.mkdir()
    for name in ("case_1.nrrd", "case_1.seg.nrrd"):  # Slicer's segmentation of the case
        (case / name).write_bytes(b"")
    assert "*.seg.nrrd) continue" in volume_fix([".nrrd"], case, "k")


def test_a_folder_of_label_volumes_alone_gets_one_loop_into_the_folder_given(tmp_path, capsys):
    # a folder of labels alone (case_1_seg.nii.gz ...) was told it held them "beside its
    # images", given an images loop that split nothing, and its masks sent to masks_masks
    folder = tmp_path / "labels"
    folder.mkdir()
    for case in ("case_1", "case_2"):
        nib.save(nib.Nifti1Image(np.ones((4, 5, 2), np.uint8), np.eye(4)),
                 folder / f"{case}_seg.nii.gz")
    assert main(["unstack", str(folder), str(tmp_path / "out/masks")]) == 2
    err = capsys.readouterr().err
    assert "beside its images" not in err and "masks_masks" not in err, err
    loop = err.split("named as their image: ")[1].strip()
    subprocess.run(["bash", "-c", UNET + loop], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                   capture_output=True)
    got = sorted(p.name for p in (tmp_path / "out").rglob("*.png"))
    assert got == [f"{c}_00{k}.png" for c in ("case_1", "case_2") for k in (0, 1)], got
    assert all(p.parent == tmp_path / "out/masks" for p in (tmp_path / "out").rglob("*.png"))
    fix = volume_fix([".nii.gz"], folder, "k")  # a data set's folder: labels_masks, one loop
    assert f"{folder}_masks --name" in fix and "continue" not in fix, fix


def _camus_patient(root: Path) -> None:
    """CAMUS's patient folder: 2-D ED and ES frames of two views, their _gt labels and each
    view's _half_sequence (3-D: x, y, frames; no label)."""
    folder = root / "patient0001"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for view in ("2CH", "4CH"):
        for phase in ("ED", "ES"):
            stem = f"patient0001_{view}_{phase}"
            nib.save(nib.Nifti1Image(rng.integers(0, 255, (7, 9)).astype(np.uint8), np.eye(4)),
                     folder / f"{stem}.nii.gz")
            nib.save(nib.Nifti1Image(rng.integers(0, 4, (7, 9)).astype(np.uint8), np.eye(4)),
                     folder / f"{stem}_gt.nii.gz")
        seq = rng.integers(0, 255, (7, 9, 5)).astype(np.uint8)
        nib.save(nib.Nifti1Image(seq, np.eye(4)),
                 folder / f"patient0001_{view}_half_sequence.nii.gz")


@pytest.mark.parametrize("given", ["database_nifti/patient0001", "database_nifti"])
def test_camus_loops_leave_the_unlabelled_half_sequences_out(tmp_path, capsys, given):
    # the images loop split each view's _half_sequence (15+ unlabelled frames) in with the
    # ED and ES frames: 2 x 5 image slices here that pair with no mask
    _camus_patient(tmp_path / "database_nifti")
    assert main(["unstack", str(tmp_path / given), str(tmp_path / "camus/images")]) == 2
    err = capsys.readouterr().err
    assert "_half_sequence" in err and "no label" in err, err  # said why it is left out
    loops = err.split("split the images alone: ")[1].replace(", and the labels as masks "
                                                               "named as their image: ", "\n")
    _run(loops, tmp_path)
    got = {side: sorted(p.name for p in (tmp_path / "camus" / side).glob("*.png"))
           for side in ("images", "masks")}
    assert got["images"] == got["masks"] == [f"patient0001_{v}_{p}_000.png" for v in
                                             ("2CH", "4CH") for p in ("ED", "ES")], got


def test_case_folders_of_two_formats_get_a_loop_for_each(tmp_path, capsys):
    # patients kept as NIfTI and as MetaImage: the advice, judged by the first patient folder,
    # looped over .nii* alone, and patient002's .mhd frames were never split
    sitk = pytest.importorskip("SimpleITK")
    root = tmp_path / "training"
    root.mkdir()
    _acdc_patient(root)
    (root / "patient002").mkdir()
    for name in ("patient002_frame01", "patient002_frame01_gt"):
        sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 5, 6), np.uint8)),
                        str(root / "patient002" / f"{name}.mhd"))
    assert main(["unstack", str(root), str(tmp_path / "acdc/images")]) == 2
    err = capsys.readouterr().err
    for ext in (".nii*", ".mhd"):
        assert f"training/*/[!.]*{ext}; do case" in err, (ext, err)  # images, labels left out
        assert f"training/*/[!.]*_gt{ext}; do n=" in err, (ext, err)  # labels as masks


def test_a_folder_of_two_formats_gets_a_loop_for_each(tmp_path, capsys):
    # the loop globbed the first volume's kind alone: the other format's volumes never split
    sitk = pytest.importorskip("SimpleITK")
    (tmp_path / "vols").mkdir()
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 2), np.int16), np.eye(4)),
             tmp_path / "vols/a.nii.gz")
    for name in ("b.mhd", "c.nrrd", "d.mha"):
        sitk.WriteImage(sitk.GetImageFromArray(np.zeros((2, 4, 4), np.int16)),
                        str(tmp_path / "vols" / name))
    assert main(["unstack", str(tmp_path / "vols"), str(tmp_path / "images")]) == 2
    err = capsys.readouterr().err
    fix = volume_fix([".nii.gz", ".mhd", ".nrrd", ".mha"], tmp_path / "vols", "key")
    for ext in (".nii*", ".mhd", ".nrrd", ".mha"):
        assert f"vols/[!.]*{ext}; do unet unstack" in err, (ext, err)
        assert f"vols/[!.]*{ext}; do unet unstack" in fix, (ext, fix)
