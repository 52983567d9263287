"""`unet unstack` of a 4-D NIfTI: a time series (ACDC's cine, x, y, z, 30 cardiac phases) is
refused by its header, a case's modalities (the Decathlon's x, y, z, 4) still split as channels."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import slices
from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

ACDC = np.diag([1.5625, 1.5625, 10.0, 1.0])  # a short-axis stack: 10 mm between slices


def _save(path, data: np.ndarray, units=("mm", "sec"), intent=None):
    """A replica of a header kind: time on dim[4] with a time unit (ACDC, an fMRI run), or
    modalities on dim[4] (Decathlon), or ITK's vector voxels on dim[5] (intent VECTOR)."""
    img = nib.Nifti1Image(data, ACDC)
    img.header.set_xyzt_units(*units)
    if intent:
        img.header.set_intent(intent)
    nib.save(img, path)
    return path


def _cine(frames=30) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 900, (6, 5, 3, frames)).astype(np.int16)


@pytest.mark.parametrize("unit", ["sec", "msec", "usec"])
def test_a_cine_volume_is_refused_naming_its_frames_and_the_acdc_files(tmp_path, capsys,
                                                                       unit):
    volume = _save(tmp_path / "patient001_4d.nii.gz", _cine(), ("mm", unit))
    assert main(["unstack", str(volume), str(tmp_path / "images")]) != 0
    err = capsys.readouterr().err
    assert str(volume) in err and "time series of 30 frames" in err and unit in err
    assert "patient001_frame01.nii.gz" in err and "_gt" in err  # the fix: ACDC's own frames
    assert "cut short" not in err  # the file is whole: no advice to download it again
    assert not (tmp_path / "images").exists() or slices(tmp_path / "images") == []


def test_intent_time_series_is_a_time_series_without_a_unit(tmp_path, capsys):
    volume = _save(tmp_path / "run.nii.gz", _cine(12), ("mm", "unknown"), "time series")
    assert main(["unstack", str(volume), str(tmp_path / "images")]) != 0
    assert "time series of 12 frames" in capsys.readouterr().err


@pytest.mark.parametrize("units", [("unknown", "unknown"), ("mm", "unknown")])
def test_decathlon_modalities_without_a_time_unit_stay_channels(tmp_path, capsys, units):
    mr = _cine(4)  # BRATS: FLAIR, T1w, T1gd, T2w
    volume = _save(tmp_path / "BRATS_001.nii.gz", mr, units)
    assert main(["unstack", str(volume), str(tmp_path / "images")]) == 0, capsys.readouterr()
    written = slices(tmp_path / "images")
    assert len(written) == 3
    assert np.array_equal(tifffile.imread(written[1]), mr[:, :, 1].transpose(1, 0, 2))


def test_itk_vector_voxels_stay_channels_though_itk_marks_every_file_in_seconds(tmp_path,
                                                                                capsys):
    mr = _cine(2)  # Prostate: T2, ADC, as ITK writes a vector image: dim[5], intent VECTOR
    volume = _save(tmp_path / "prostate_00.nii.gz", mr[:, :, :, None, :], ("mm", "sec"),
                   "vector")
    assert main(["unstack", str(volume), str(tmp_path / "images")]) == 0, capsys.readouterr()
    written = slices(tmp_path / "images")
    assert np.array_equal(tifffile.imread(written[2]), mr[:, :, 2].transpose(1, 0, 2))


def test_a_3d_volume_in_seconds_and_a_single_frame_split_as_before(tmp_path, capsys):
    ct = _cine(1)  # (x, y, z, 1): one frame, as ITK writes every 3-D file in mm and seconds
    volume = _save(tmp_path / "patient001_frame01.nii.gz", ct)
    assert main(["unstack", str(volume), str(tmp_path / "images")]) == 0, capsys.readouterr()
    assert len(slices(tmp_path / "images")) == 3


def test_modalities_in_itk_seconds_with_its_unit_step_stay_channels(tmp_path, capsys):
    """ITK marks every file in mm and seconds with a step of 1: a unit alone took the
    Decathlon's 4 modalities written so for 4 phases and refused them."""
    mr = _cine(4)
    volume = _save(tmp_path / "BRATS_003.nii.gz", mr)  # sec, pixdim[4] 1
    assert main(["unstack", str(volume), str(tmp_path / "images")]) == 0, capsys.readouterr()
    assert tifffile.imread(slices(tmp_path / "images")[0]).shape == (5, 6, 4)


def test_a_few_frames_with_a_time_step_of_their_own_are_a_time_series(tmp_path, capsys):
    img = nib.Nifti1Image(_cine(3), ACDC)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_zooms((1.5625, 1.5625, 10.0, 0.04))  # 40 ms between phases
    nib.save(img, tmp_path / "cine.nii.gz")
    assert main(["unstack", str(tmp_path / "cine.nii.gz"), str(tmp_path / "images")]) != 0
    err = capsys.readouterr().err
    assert "time series of 3 frames" in err and "a step of 0.04 sec" in err


def test_the_advised_fix_for_modalities_marked_in_seconds_splits_them(tmp_path, capsys):
    mr = _cine(12)
    volume = _save(tmp_path / "echoes.nii.gz", mr)
    assert main(["unstack", str(volume), str(tmp_path / "images")]) != 0
    assert "set_xyzt_units('mm', 'unknown')" in capsys.readouterr().err
    img = nib.load(volume)
    img.header.set_xyzt_units("mm", "unknown")  # as the message says
    nib.save(img, volume)
    assert main(["unstack", str(volume), str(tmp_path / "images")]) == 0, capsys.readouterr()
    assert tifffile.imread(slices(tmp_path / "images")[0]).shape == (5, 6, 12)
