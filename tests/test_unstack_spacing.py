"""`unet unstack` prints a volume's voxel size (z, y, x) and the evaluate.voxel_spacing to set:
the slices it writes carry none, and per-case HD95 without it is in px with slices 1 px apart."""

from __future__ import annotations

import numpy as np
import pytest

from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")


def test_a_ct_s_spacing_is_printed_as_z_y_x_with_the_key(tmp_path, capsys):
    # a CT of 5 mm slices and 0.7 x 0.8 mm pixels: columns run along x, rows along y
    img = nib.Nifti1Image(np.zeros((6, 4, 3), np.int16), np.diag([-0.7, -0.8, 5.0, 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, tmp_path / "liver_1.nii.gz")
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "spacing z,y,x = 5, 0.8, 0.7 mm" in out
    assert "evaluate.voxel_spacing: [5, 0.8, 0.7]" in out


def test_an_itk_volume_s_spacing_too(tmp_path, capsys):
    sitk = pytest.importorskip("SimpleITK", reason="pip install -e '.[volumes]'")
    image = sitk.GetImageFromArray(np.zeros((3, 4, 6), np.int16))  # (z, y, x)
    image.SetSpacing((0.7, 0.8, 2.5))  # (x, y, z)
    sitk.WriteImage(image, str(tmp_path / "p.mha"))
    assert main(["unstack", str(tmp_path / "p.mha"), str(tmp_path / "s")]) == 0
    assert "evaluate.voxel_spacing: [2.5, 0.8, 0.7]" in capsys.readouterr().out


def test_a_tiff_stack_prints_no_spacing(tmp_path, capsys):
    import tifffile
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((2, 4, 4), np.uint8))
    assert main(["unstack", str(tmp_path / "a.tif"), str(tmp_path / "s")]) == 0
    assert "voxel_spacing" not in capsys.readouterr().out


def test_a_dicom_series_folder_s_spacing_too(tmp_path, capsys):
    # LIDC-IDRI and TCIA CT come as series folders; their spacing went unprinted (only files
    # were asked for it), so a user had no evaluate.voxel_spacing to copy for per-case HD95
    pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
    from tests.test_dicom_series import Z, _series, _stored

    _series(tmp_path / "ct", _stored())
    assert main(["unstack", str(tmp_path / "ct"), str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "spacing z,y,x = 2.5, 0.8, 0.7 mm (ct)" in out
    assert "evaluate.voxel_spacing: [2.5, 0.8, 0.7]" in out
    picked = _series(tmp_path / "study", _stored(3, 1), z=Z[:3])  # of two, --series picks one
    _series(tmp_path / "study", _stored(), z=tuple(z * 2 for z in Z), prefix="b")
    assert main(["unstack", str(tmp_path / "study"), str(tmp_path / "t"), "--series", picked]) == 0
    assert "evaluate.voxel_spacing: [2.5, 0.8, 0.7]" in capsys.readouterr().out


def test_an_unevenly_spaced_series_prints_no_spacing_but_is_split(tmp_path, capsys):
    pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
    from tests.test_dicom_series import Z, _series, _stored

    _series(tmp_path / "ct", _stored(), z=(*Z[:3], -27.5, -25.0))  # a slice missing
    assert main(["unstack", str(tmp_path / "ct"), str(tmp_path / "s")]) == 0
    assert "voxel_spacing" not in capsys.readouterr().out  # one spacing would be wrong
    assert len(list((tmp_path / "s").iterdir())) == 5
