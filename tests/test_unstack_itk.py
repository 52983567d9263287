"""`unet unstack` and `unet restack` of NRRD (3D Slicer), MetaImage (.mha, .mhd + .raw: LUNA16,
PROMISE12) and multi-frame DICOM volumes, read through SimpleITK as NIfTI is through nibabel:
the same voxel array gives the same slices, byte for byte."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import slices
from unet.cli import main

sitk = pytest.importorskip("SimpleITK", reason="pip install -e '.[volumes]'")
nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

SPACING, ORIGIN = (0.7123456789012345, 0.8, 2.5), (-10.123456789012345, 20.1, 5.3)
DIRECTION = (0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


def _image(data: np.ndarray, vector: bool = False):
    """A SimpleITK image of `data` indexed (x, y, z[, c]) as nibabel gives a NIfTI's voxels."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.moveaxis(data, (0, 1, 2), (2, 1, 0))),
                                   isVector=vector)
    image.SetSpacing(SPACING), image.SetOrigin(ORIGIN), image.SetDirection(DIRECTION)
    return image


def _ct(shape=(7, 5, 12)) -> np.ndarray:
    return np.random.default_rng(0).integers(-1024, 1500, shape).astype(np.int16)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in slices(folder)}


@pytest.mark.parametrize("data", [_ct(), (_ct() % 3).astype(np.uint8), _ct().astype(np.float32)
                                  / 7, np.random.default_rng(1).integers(0, 900, (6, 4, 3))
                                  .astype(np.int16)], ids=["ct", "labels", "float", "mr"])
@pytest.mark.parametrize("ext", [".nrrd", ".mha", ".mhd"])
def test_one_voxel_array_as_nifti_and_as_itk_unstacks_to_identical_slices(tmp_path, data, ext):
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.5, 1])), tmp_path / "case_1.nii.gz")
    sitk.WriteImage(_image(data), str(tmp_path / f"case_1{ext}"))
    assert main(["unstack", str(tmp_path / "case_1.nii.gz"), str(tmp_path / "nifti")]) == 0
    assert main(["unstack", str(tmp_path / f"case_1{ext}"), str(tmp_path / "itk")]) == 0
    nifti = _files(tmp_path / "nifti")
    assert len(nifti) == data.shape[2] and "case_1_000" in next(iter(nifti))
    assert _files(tmp_path / "itk") == nifti


def test_a_slicer_segmentation_is_named_by_its_case_and_vector_voxels_are_channels(tmp_path,
                                                                                   capsys):
    labels = (_ct() % 4).astype(np.uint8)
    sitk.WriteImage(_image(labels), str(tmp_path / "case_1.seg.nrrd"))
    assert main(["unstack", str(tmp_path / "case_1.seg.nrrd"), str(tmp_path / "masks")]) == 0
    assert (tmp_path / "masks" / "case_1_011.png").is_file()
    # Slicer's layers of overlapping segments read as 2 components: not a mask's channels
    sitk.WriteImage(_image(np.stack([labels, labels], -1), vector=True),
                    str(tmp_path / "case_2.seg.nrrd"))
    assert main(["unstack", str(tmp_path / "case_2.seg.nrrd"), str(tmp_path / "masks")]) == 2
    assert "case_2.seg.nrrd holds 2 layers" in capsys.readouterr().err
    modalities = _ct((4, 3, 2, 2)).astype(np.float32)  # (x, y, z, channel): T2, ADC
    sitk.WriteImage(_image(modalities, vector=True), str(tmp_path / "p.mha"))
    nib.save(nib.Nifti1Image(modalities, np.eye(4)), tmp_path / "p.nii")
    assert main(["unstack", str(tmp_path / "p.mha"), str(tmp_path / "itk")]) == 0
    assert main(["unstack", str(tmp_path / "p.nii"), str(tmp_path / "nifti")]) == 0
    assert _files(tmp_path / "itk") == _files(tmp_path / "nifti")


def test_a_4d_volume_of_scalars_is_refused_unless_its_4th_dimension_is_1(tmp_path, capsys):
    series = sitk.JoinSeries([_image(_ct((4, 3, 2)))] * 3)  # (x, y, z, t): a time series
    sitk.WriteImage(series, str(tmp_path / "cine.nrrd"))
    assert main(["unstack", str(tmp_path / "cine.nrrd"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cine.nrrd" in err and "(4, 3, 2, 3)" in err and not (tmp_path / "out").exists()
    sitk.WriteImage(sitk.JoinSeries([_image(_ct((4, 3, 2)))]), str(tmp_path / "one.nrrd"))
    assert main(["unstack", str(tmp_path / "one.nrrd"), str(tmp_path / "out")]) == 0
    assert len(list(slices(tmp_path / "out"))) == 2


def test_a_metaimage_whose_raw_file_is_missing_or_short_is_refused_naming_it(tmp_path, capsys):
    sitk.WriteImage(_image(_ct()), str(tmp_path / "scan.mhd"))
    raw = tmp_path / "scan.raw"
    whole = raw.read_bytes()
    raw.write_bytes(whole[:100])  # a download cut short
    assert main(["unstack", str(tmp_path / "scan.mhd"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(raw) in err and "100 bytes" in err and str(len(whole)) in err
    raw.unlink()
    assert main(["unstack", str(tmp_path / "scan.mhd"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(raw) in err and "scan.mhd" in err and not (tmp_path / "out").exists()



def test_a_metaimage_of_a_list_of_slice_files_unstacks(tmp_path):
    # the header names the files after `LIST 2D` (each a 2-D slice); ITK reads them, and the
    # .raw check read `LIST 2D` as a file name and refused the volume as missing its data
    for k in range(3):
        (tmp_path / f"s{k}.raw").write_bytes(np.full((5, 6), k, np.uint8).tobytes())
    (tmp_path / "v.mhd").write_text("ObjectType = Image\nNDims = 3\nDimSize = 6 5 3\n"
                                    "ElementType = MET_UCHAR\nElementDataFile = LIST 2D\n"
                                    "s0.raw\ns1.raw\ns2.raw\n")
    assert main(["unstack", str(tmp_path / "v.mhd"), str(tmp_path / "out")]) == 0
    assert [np.asarray(Image.open(tmp_path / "out" / f"v_00{k}.png")).max() for k in range(3)] \
        == [0, 1, 2]


def _multiframe_ct(path, stored: np.ndarray, intercept: int) -> None:
    """An enhanced-style multi-frame CT file (frames along z) with a rescale intercept."""
    from tests.dicom_files import ct_dataset

    ds = ct_dataset()
    z, y, x = stored.shape
    ds.NumberOfFrames, ds.Rows, ds.Columns = z, y, x
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = intercept, 1, "HU"
    ds.PixelSpacing, ds.SliceThickness = [0.8, 0.7], 2.5
    ds.PixelData = stored.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_a_multi_frame_dicom_unstacks_in_hounsfield_units_as_nifti_would(tmp_path):
    pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
    hu = _ct((6, 5, 4))
    _multiframe_ct(tmp_path / "ct.dcm", (hu.astype(np.int32) + 1024).transpose(2, 1, 0), -1024)
    nib.save(nib.Nifti1Image(hu, np.eye(4)), tmp_path / "ct.nii")
    assert main(["unstack", str(tmp_path / "ct.dcm"), str(tmp_path / "itk")]) == 0
    assert main(["unstack", str(tmp_path / "ct.nii"), str(tmp_path / "nifti")]) == 0
    assert _files(tmp_path / "itk") == _files(tmp_path / "nifti")  # int16 TIFFs of HU
    labels = (hu % 3).astype(np.uint8)  # its slices' masks, put back on the DICOM's grid
    (tmp_path / "pred").mkdir()
    for k in range(labels.shape[2]):
        page = np.ascontiguousarray(labels[:, :, k].T)  # (y, x), as unstack wrote it
        Image.fromarray(page).save(tmp_path / f"pred/ct_{k:03d}.png")
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "ct.dcm"),
                 "-o", str(tmp_path / "ct.nrrd")]) == 0
    got, ref = sitk.ReadImage(str(tmp_path / "ct.nrrd")), sitk.ReadImage(str(tmp_path / "ct.dcm"))
    assert np.array_equal(sitk.GetArrayFromImage(got).transpose(2, 1, 0), labels)
    assert (got.GetOrigin(), got.GetSpacing(), got.GetDirection()) == (
        ref.GetOrigin(), ref.GetSpacing(), ref.GetDirection())


def _predicted(tmp_path, ext: str) -> np.ndarray:
    """The case's image unstacked, and its labels unstacked as if predicted into pred/."""
    labels = (_ct((6, 5, 3)) % 3).astype(np.uint8)
    sitk.WriteImage(_image(_ct((6, 5, 3)).astype(np.float32)), str(tmp_path / f"case_1{ext}"))
    sitk.WriteImage(_image(labels), str(tmp_path / f"labels{ext}"))
    assert main(["unstack", str(tmp_path / f"case_1{ext}"), str(tmp_path / "images")]) == 0
    assert main(["unstack", str(tmp_path / f"labels{ext}"), str(tmp_path / "pred"),
                 "--name", "case_1"]) == 0
    return labels


@pytest.mark.parametrize("ext", [".nrrd", ".mha", ".mhd"])
def test_restack_writes_the_reference_format_on_its_exact_grid(tmp_path, ext, capsys):
    labels = _predicted(tmp_path, ext)
    out = tmp_path / "out" / f"case_1_pred{ext}"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / f"case_1{ext}"),
                 "-o", str(out)]) == 0
    got = sitk.ReadImage(str(out))
    assert (got.GetOrigin(), got.GetSpacing(), got.GetDirection()) == (ORIGIN, SPACING, DIRECTION)
    assert np.array_equal(sitk.GetArrayFromImage(got).transpose(2, 1, 0), labels)
    assert got.GetPixelID() == sitk.sitkUInt8
    assert sorted(p.name for p in slices(out.parent)) == sorted(
        [out.name] + ([f"case_1_pred.{'zraw' if ext == '.mhd' else 'raw'}"] * (ext == ".mhd")))
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / f"case_1{ext}"),
                 "-o", str(out)]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err


def test_restack_refuses_another_format_than_the_references(tmp_path, capsys):
    _predicted(tmp_path, ".nrrd")
    out = tmp_path / "case_1.nii.gz"  # NIfTI keeps its grid in float32: not exactly the same
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "case_1.nrrd"),
                 "-o", str(out)]) == 2
    assert ".nrrd" in capsys.readouterr().err and not out.exists()



@pytest.mark.parametrize("ext", [".mha", ".nrrd", ".mhd"])  # .mhd: header and .raw apart
def test_restack_of_a_2d_reference_writes_a_2d_image_on_its_grid(tmp_path, ext):
    # a 2-D .mha or .nrrd (one slice: an X-ray, a microscope field) unstacks to one slice;
    # restack handed its 2-D origin to a 3-D image: SimpleITK's bare RuntimeError
    image = sitk.GetImageFromArray(np.zeros((5, 6), np.int16))
    image.SetSpacing((0.5, 0.7)), image.SetOrigin((3.0, 4.0))
    sitk.WriteImage(image, str(tmp_path / f"xr{ext}"))
    (tmp_path / "pred").mkdir()
    mask = np.random.default_rng(0).integers(0, 3, (5, 6)).astype(np.uint8)
    Image.fromarray(mask).save(tmp_path / "pred" / "xr_000.png")
    out = tmp_path / f"xr_pred{ext}"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / f"xr{ext}"),
                 "-o", str(out)]) == 0
    got = sitk.ReadImage(str(out))
    assert (got.GetDimension(), got.GetSpacing(), got.GetOrigin()) == (2, (0.5, 0.7), (3.0, 4.0))
    assert np.array_equal(sitk.GetArrayFromImage(got), mask)

def test_without_simpleitk_the_error_names_the_file_and_the_extra(tmp_path, capsys, monkeypatch):
    sitk.WriteImage(_image(_ct()), str(tmp_path / "case_1.nrrd"))
    monkeypatch.setitem(sys.modules, "SimpleITK", None)  # import SimpleITK raises ImportError
    assert main(["unstack", str(tmp_path / "case_1.nrrd"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "case_1.nrrd" in err and ".[volumes]" in err and not (tmp_path / "out").exists()


def test_a_folder_of_volumes_gets_a_loop_and_a_dicom_series_folder_the_extension(tmp_path, capsys):
    (tmp_path / "vols").mkdir()
    sitk.WriteImage(_image(_ct()), str(tmp_path / "vols" / "case_1.mha"))
    assert main(["unstack", str(tmp_path / "vols"), str(tmp_path / "out")]) == 2
    assert "[!.]*.mha; do unet unstack" in capsys.readouterr().err
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "IM0001.dcm").write_bytes(b"")  # one slice a file
    assert main(["unstack", str(tmp_path / "series"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "image_extensions" in err and "do unet unstack" not in err


def test_an_rgb_nrrd_or_metaimage_becomes_colour_pngs_as_an_rgb24_nifti_does(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (5, 4, 3, 3)).astype(np.uint8)  # x, y, z, c
    records = np.ascontiguousarray(rgb).view([("R", "u1"), ("G", "u1"), ("B", "u1")])[..., 0]
    nib.save(nib.Nifti1Image(records, np.eye(4)), tmp_path / "h.nii")
    assert main(["unstack", str(tmp_path / "h.nii"), str(tmp_path / "nifti")]) == 0
    for ext in (".nrrd", ".mha"):
        sitk.WriteImage(_image(rgb, vector=True), str(tmp_path / f"h{ext}"))
        assert main(["unstack", str(tmp_path / f"h{ext}"), str(tmp_path / ext[1:])]) == 0
        assert _files(tmp_path / ext[1:]) == _files(tmp_path / "nifti")  # h_000.png ...
    with Image.open(tmp_path / "nrrd" / "h_000.png") as im:
        assert im.mode == "RGB" and np.array_equal(np.asarray(im), rgb[:, :, 0].swapaxes(0, 1))
