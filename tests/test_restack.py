"""`unet restack`: a case's slice masks (as `unet predict` writes them for the slices `unet
unstack` split) back into one NIfTI label volume on the image's grid, affine and all."""

from __future__ import annotations

import numpy as np
import pytest

from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

AFFINE = np.array([[0.6, 0, 0, -10], [0, 0.6, 0, 20], [0, 0, 3.6, 5], [0, 0, 0, 1]])


def _case(tmp_path, shape=(6, 5, 3)) -> np.ndarray:
    """The Decathlon's prostate: a 4-D float image (T2, ADC) and labels 0/1/2, split by unstack
    into images/ and masks/ (the masks standing in for predicted ones)."""
    rng = np.random.default_rng(0)
    image = rng.normal(300, 30, shape + (2,)).astype(np.float32)
    labels = rng.choice(np.array([0, 1, 2], np.uint8), shape)
    nib.save(nib.Nifti1Image(image, AFFINE), tmp_path / "prostate_03.nii.gz")
    nib.save(nib.Nifti1Image(labels, AFFINE), tmp_path / "labels.nii.gz")
    assert main(["unstack", str(tmp_path / "prostate_03.nii.gz"), str(tmp_path / "images")]) == 0
    assert main(["unstack", str(tmp_path / "labels.nii.gz"), str(tmp_path / "pred"),
                 "--name", "prostate_03"]) == 0
    return labels


def test_slice_masks_come_back_as_the_label_volume_on_the_images_grid(tmp_path, capsys):
    labels = _case(tmp_path)
    out = tmp_path / "out" / "prostate_03.nii.gz"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "prostate_03.nii.gz"),
                 "-o", str(out)]) == 0
    got = nib.load(out)
    assert got.shape == labels.shape and np.allclose(got.affine, AFFINE)
    data = np.asanyarray(got.dataobj)
    assert data.dtype == np.uint8 and np.array_equal(data, labels)  # voxel for voxel
    assert str(out) in capsys.readouterr().out
    # never overwritten
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "prostate_03.nii.gz"),
                 "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_a_missing_slice_is_named_and_nothing_is_written(tmp_path, capsys):
    _case(tmp_path)
    (tmp_path / "pred" / "prostate_03_001.png").unlink()
    out = tmp_path / "prostate_03_pred.nii.gz"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "prostate_03.nii.gz"),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "prostate_03_001.png" in err and "1 of the 3" in err
    assert not out.exists() and not list(tmp_path.glob(".*part"))


def test_slices_of_another_size_are_refused_naming_the_file(tmp_path, capsys):
    _case(tmp_path)
    nib.save(nib.Nifti1Image(np.zeros((7, 5, 3), np.float32), AFFINE), tmp_path / "other.nii.gz")
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "other.nii.gz"),
                 "-o", str(tmp_path / "x.nii.gz"), "--name", "prostate_03"]) == 2
    assert "prostate_03_000.png" in capsys.readouterr().err


def test_an_nnunet_channel_file_as_reference_finds_its_cases_slices(tmp_path):
    # nnU-Net's imagesTs/prostate_03_0000.nii.gz was unstacked (with _0001) as prostate_03_000 ...
    labels = _case(tmp_path)
    (tmp_path / "prostate_03.nii.gz").rename(tmp_path / "prostate_03_0000.nii.gz")
    out = tmp_path / "prostate_03.nii.gz"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "prostate_03_0000.nii.gz"),
                 "-o", str(out)]) == 0
    assert np.array_equal(np.asanyarray(nib.load(out).dataobj), labels)


def test_slices_beyond_the_references_depth_are_refused_not_dropped(tmp_path, capsys):
    # the slices of a deeper volume (another case, a re-sliced copy) restacked on a 3-slice
    # reference silently lost their last slices
    _case(tmp_path, shape=(6, 5, 5))
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 3), np.float32), AFFINE), tmp_path / "short.nii.gz")
    out = tmp_path / "x.nii.gz"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "short.nii.gz"),
                 "-o", str(out), "--name", "prostate_03"]) == 2
    err = capsys.readouterr().err
    assert "prostate_03_003.png" in err and "3 slices" in err
    assert not out.exists()


def test_labels_drop_the_images_display_window_and_scaling(tmp_path):
    # the image header's cal_min/cal_max came along: viewers showed labels 0-2 in a 200-400
    # window (all black); its scaling and description belong to the image's values too
    labels = _case(tmp_path)
    image = nib.load(tmp_path / "prostate_03.nii.gz")
    ref = nib.Nifti1Image(np.asanyarray(image.dataobj)[..., 0], AFFINE, image.header)
    ref.header["cal_min"], ref.header["cal_max"] = 200, 400
    ref.header["descrip"] = b"T2 scan, window 200-400"
    ref.header.set_slope_inter(2.0, -100.0)
    ref.header.set_qform(AFFINE, 1)
    ref.header.set_sform(AFFINE, 4)
    nib.save(ref, tmp_path / "ref.nii.gz")
    out = tmp_path / "labels_out.nii"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "ref.nii.gz"), "-o", str(out),
                 "--name", "prostate_03"]) == 0
    got = nib.load(out)
    header = got.header
    assert header["cal_min"] == 0 and header["cal_max"] == 0
    assert header["descrip"] == b""
    assert header["intent_code"] == 1002  # NIFTI_INTENT_LABEL
    assert np.isnan(header["scl_slope"]) or header["scl_slope"] in (0, 1)
    assert header["scl_inter"] == 0 or np.isnan(header["scl_inter"])
    assert np.array_equal(np.asanyarray(got.dataobj), labels)  # as stored, not scaled
    assert int(header["qform_code"]) == 1 and int(header["sform_code"]) == 4
    assert np.allclose(got.get_qform(), AFFINE) and np.allclose(got.get_sform(), AFFINE)


def test_the_prediction_folder_above_masks_is_named_with_the_folder_to_give(tmp_path, capsys):
    # unet predict writes pred/test/masks/: given pred/test, "3 of the 3 slices are missing"
    _case(tmp_path)
    (tmp_path / "pred").rename(tmp_path / "masks")
    (tmp_path / "pred").mkdir()
    (tmp_path / "masks").rename(tmp_path / "pred" / "masks")
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "prostate_03.nii.gz"),
                 "-o", str(tmp_path / "x.nii.gz")]) == 2
    err = capsys.readouterr().err
    assert f"give {tmp_path / 'pred' / 'masks'} as the slices' folder" in err, err


def test_a_2d_reference_gets_a_2d_label_file(tmp_path):
    # CAMUS's frames are 2-D NIfTI (x, y): the labels came back (x, y, 1), a shape its _gt
    # files and scorers comparing shapes do not share
    ref = tmp_path / "patient0001_2CH_ED.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((7, 9), np.uint8), np.diag([0.2, 0.4, 1, 1])), ref)
    assert main(["unstack", str(ref), str(tmp_path / "slices")]) == 0
    mask = np.random.default_rng(0).integers(0, 4, (9, 7)).astype(np.uint8)  # (y, x) as unstacked
    from PIL import Image
    Image.fromarray(mask).save(tmp_path / "slices" / "patient0001_2CH_ED_000.png")
    out = tmp_path / "pred.nii.gz"
    assert main(["restack", str(tmp_path / "slices"), str(ref), "-o", str(out)]) == 0
    got = nib.load(out)
    assert got.shape == (7, 9) and np.array_equal(np.asarray(got.dataobj), mask.T)
    assert got.header.get_zooms() == nib.load(ref).header.get_zooms()
