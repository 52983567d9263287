"""`unet unstack` and `unet restack` of a DICOM series: a folder of .dcm files, one slice each,
read as one volume ordered by position (not file name), rescale applied."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from tests.conftest import slices
from tests.dicom_files import ct_dataset
from unet.cli import main

sitk = pytest.importorskip("SimpleITK", reason="pip install -e '.[volumes]'")
nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")
pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")

Z = (-40.0, -37.5, -35.0, -32.5, -30.0)  # mm: 5 slices 2.5 apart


def _series(folder, stored: np.ndarray, z=Z, photometric="MONOCHROME2", prefix="IM") -> str:
    """A CT series of stored (z, y, x) 12-bit values, intercept -1024, one file a slice, written
    in shuffled file-name order; its SeriesInstanceUID."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    uid, study = generate_uid(), generate_uid()
    order = list(range(len(z)))
    random.Random(len(z)).shuffle(order)
    assert order != sorted(order)
    for i, k in enumerate(order):
        ds = ct_dataset(photometric)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = study, uid, "p1"
        ds.Rows, ds.Columns = stored.shape[1:]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelSpacing, ds.SliceThickness = [0.8, 0.7], 2.5
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [-10, 20, z[k]], [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = k + 1
        ds.PixelData = stored[k].astype("<u2").tobytes()
        ds.save_as(folder / f"{prefix}{i:04d}.dcm", enforce_file_format=True)
    return uid


def _stored(depth: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4096, (depth, 4, 6))  # (z, y, x)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in slices(folder)}


def test_a_series_folder_unstacks_in_position_order_and_restacks_on_its_grid(tmp_path):
    stored = _stored()
    _series(tmp_path / "ct", stored)
    hu = (stored - 1024).astype(np.int16).transpose(2, 1, 0)  # (x, y, z) in slice order
    nib.save(nib.Nifti1Image(hu, np.eye(4)), tmp_path / "ct.nii")
    assert main(["unstack", str(tmp_path / "ct"), str(tmp_path / "itk")]) == 0
    assert main(["unstack", str(tmp_path / "ct.nii"), str(tmp_path / "nifti")]) == 0
    assert _files(tmp_path / "itk") == _files(tmp_path / "nifti")  # ct_000 ... ct_004.tif
    labels = (hu % 3).astype(np.uint8)
    (tmp_path / "pred").mkdir()
    for k in range(5):
        Image.fromarray(np.ascontiguousarray(labels[:, :, k].T)).save(
            tmp_path / f"pred/ct_{k:03d}.png")
    out = tmp_path / "ct_labels.nrrd"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "ct"), "-o", str(out)]) == 0
    got = sitk.ReadImage(str(out))
    assert np.array_equal(sitk.GetArrayFromImage(got).transpose(2, 1, 0), labels)
    assert got.GetOrigin() == (-10.0, 20.0, -40.0) and got.GetSpacing() == (0.7, 0.8, 2.5)


def test_a_folder_of_two_series_is_refused_listing_them_and_series_picks_one(tmp_path, capsys):
    first = _series(tmp_path / "study", _stored())
    second = _series(tmp_path / "study", _stored(3, 1), z=Z[:3], prefix="b")
    assert len(list((tmp_path / "study").iterdir())) == 8
    assert main(["unstack", str(tmp_path / "study"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{first} (5 files)" in err and f"{second} (3 files)" in err
    assert "--series UID" in err and "image_extensions" in err
    assert not (tmp_path / "out").exists()
    assert main(["unstack", str(tmp_path / "study"), str(tmp_path / "out"),
                 "--series", "1.2.3"]) == 2
    assert "--series 1.2.3 is none of them" in capsys.readouterr().err
    assert main(["unstack", str(tmp_path / "study"), str(tmp_path / "out"),
                 "--series", second]) == 0
    assert sorted(_files(tmp_path / "out")) == [f"study_{k:03d}.tif" for k in range(3)]


def _gapped(tmp_path):
    z = (*Z[:3], -27.5, -25.0)  # the slice at -32.5 missing
    _series(tmp_path / "ct", _stored(), z=z)
    return tmp_path / "ct"


def test_a_missing_slice_is_warned_of_by_unstack_and_refused_by_restack(tmp_path, capfd):
    series = _gapped(tmp_path)
    assert main(["unstack", str(series), str(tmp_path / "out")]) == 0
    warned = capfd.readouterr().err  # the file descriptor's: ITK writes there from C++
    assert "gap" in warned and "-35 to -27.5" in warned and str(series) in warned
    assert "itkImageSeriesReader" not in warned  # ITK's own line, ours says it with positions
    assert len(list(slices(tmp_path / "out"))) == 5
    out = tmp_path / "labels.nrrd"
    for f in slices(tmp_path / "out"):  # as if predicted
        Image.fromarray(np.zeros((4, 6), np.uint8)).save(f.with_suffix(".png"))
    assert main(["restack", str(tmp_path / "out"), str(series), "-o", str(out)]) == 2
    err = capfd.readouterr().err
    assert "-35 to -27.5" in err and "nothing was written" in err and not out.exists()


def test_a_monochrome1_series_reads_as_the_2d_dicom_reader_inverts_it(tmp_path):
    import pydicom
    import tifffile

    from unet.common.dicom import read_dicom

    _series(tmp_path / "cr", _stored(), photometric="MONOCHROME1")
    assert main(["unstack", str(tmp_path / "cr"), str(tmp_path / "out")]) == 0
    by_z = {float(pydicom.dcmread(f).ImagePositionPatient[2]): read_dicom(f)
            for f in (tmp_path / "cr").iterdir()}

    for k, z in enumerate(Z):
        assert np.array_equal(tifffile.imread(tmp_path / f"out/cr_{k:03d}.tif"), by_z[z])


def test_a_monochrome1_multi_frame_file_reads_inverted_as_its_frames_alone(tmp_path):
    import pydicom
    import tifffile

    from unet.common.dicom import read_dicom

    stored = _stored()
    _series(tmp_path / "cr", stored, photometric="MONOCHROME1")
    ds = pydicom.dcmread(next((tmp_path / "cr").iterdir()))
    ds.NumberOfFrames, ds.PixelData = 5, stored.astype("<u2").tobytes()  # frames in z order
    ds.save_as(tmp_path / "cine.dcm")
    assert main(["unstack", str(tmp_path / "cine.dcm"), str(tmp_path / "out")]) == 0
    by_z = {float(pydicom.dcmread(f).ImagePositionPatient[2]): read_dicom(f)
            for f in (tmp_path / "cr").iterdir()}
    for k, z in enumerate(Z):
        assert np.array_equal(tifffile.imread(tmp_path / f"out/cine_{k:03d}.tif"), by_z[z])


def test_a_study_folder_of_series_folders_gets_a_loop_over_them(tmp_path, capsys):
    # LIDC-IDRI and TCIA downloads: <patient>/<study>/<series>/1-001.dcm; the study folder was
    # told to give "one stack file", with a TIFF example
    for name in ("3000566-CT", "3000923-DX"):
        _series(tmp_path / "study" / name, _stored(3), z=Z[:3])
    assert main(["unstack", str(tmp_path / "study"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "3000566-CT" in err and "3000923-DX" in err and "do unet unstack" in err, err
    assert not (tmp_path / "out").exists()


def test_a_patient_folder_names_its_series_and_the_call_that_pairs_with_its_labels(tmp_path,
                                                                                      capsys):
    # LIDC-IDRI's <patient>/<study>/<series>/: the patient folder, the one a user's labels are
    # named after, was told "unstack splits one stack file" with a TIFF example
    patient = tmp_path / "LIDC-IDRI-0001"
    _series(patient / "01-01-2000-NA-Chest-30178" / "3000566.000000-NA-03192", _stored(3), z=Z[:3])
    assert main(["unstack", str(patient), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    series = patient / "01-01-2000-NA-Chest-30178" / "3000566.000000-NA-03192"
    call = f'unet unstack "{series}" {tmp_path / "out"} --name LIDC-IDRI-0001'
    assert call in err, err
    assert not (tmp_path / "out").exists()
    assert main(["unstack", str(series), str(tmp_path / "out"), "--name", "LIDC-IDRI-0001"]) == 0
    assert sorted(_files(tmp_path / "out")) == [f"LIDC-IDRI-0001_{k:03d}.tif" for k in range(3)]


def test_two_echoes_at_the_same_positions_are_refused_not_interleaved(tmp_path, capfd):
    # Multi-echo MR in one SeriesInstanceUID: each position twice. Split, the echoes
    # interleaved (mr_000, mr_001 both at -40 mm), so label slices of the 5 positions paired
    # mr_002 (-37.5 mm) with the label of -35 mm without a word
    z = tuple(v for p in Z for v in (p, p))
    _series(tmp_path / "mr", _stored(10), z=z)
    assert main(["unstack", str(tmp_path / "mr"), str(tmp_path / "out")]) == 2
    err = capfd.readouterr().err
    assert "10 files lie at 5 positions" in err and "echo" in err and "folder of its own" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unstack_reads_a_series_once_for_its_slices_and_its_spacing(tmp_path, monkeypatch,
                                                                    capsys):
    _series(tmp_path / "ct", _stored())
    reads = []
    execute = sitk.ImageSeriesReader.Execute
    monkeypatch.setattr(sitk.ImageSeriesReader, "Execute",
                        lambda self, *a: reads.append(1) or execute(self, *a))
    assert main(["unstack", str(tmp_path / "ct"), str(tmp_path / "out")]) == 0
    assert "spacing z,y,x = 2.5, 0.8, 0.7 mm" in capsys.readouterr().out
    assert len(reads) == 1  # a CT's hundreds of files: each read twice doubled unstack's reading


def test_a_folder_of_case_folders_is_told_apart_from_a_study_without_reading_volumes(
        tmp_path, monkeypatch):
    """refuse_study_folder read the first 132 bytes of every file of every case folder to find
    DICOM marks (BraTS: 1,251 cases of 5 .nii.gz, 6,255 reads) before the case-folder advice:
    files named as another format are not read; extensionless DICOM files still are."""
    from unet.common import dicom
    from unet.dataset.dicom_series import refuse_study_folder

    brats = tmp_path / "BraTS2021_Training_Data"
    for k in range(20):
        case = brats / f"BraTS2021_{k:05d}"
        case.mkdir(parents=True)
        for kind in ("flair", "t1", "t1ce", "t2", "seg"):
            (case / f"{case.name}_{kind}.nii.gz").write_bytes(b"\x1f\x8b" + bytes(200))
        (case / "notes.json").write_text("{}")
    reads = []
    monkeypatch.setattr(dicom, "open", lambda p, *a: reads.append(p) or open(p, *a),  # noqa: SIM115
                        raising=False)
    refuse_study_folder(brats, tmp_path / "out")  # holds no series: nothing to refuse
    assert reads == []
    series = tmp_path / "study" / "3000566-CT"
    _series(series, _stored(3), z=Z[:3])
    for f in series.iterdir():
        f.rename(f.with_suffix(""))  # TCIA's 1-001 style: no extension, read for 'DICM'
    with pytest.raises(ValueError, match="3000566-CT"):
        refuse_study_folder(tmp_path / "study", tmp_path / "out")
    assert len(reads) == 1


@pytest.mark.parametrize("name", ["frame.ppm", "scan.nhdr", "cells.npz", "tiles.tar.gz", "a.log"])
def test_every_format_the_project_reads_is_passed_over_for_a_dicom_mark(tmp_path, monkeypatch,
                                                                       name):
    """OTHER_FORMATS was a hand-written list beside names' and arrays' own: a format they knew
    and it did not (PIL's .ppm, a .log note) was read for 'DICM' file by file; it is drawn
    from them now, so nothing named as another format is read."""
    from unet.common import dicom
    from unet.dataset.arrays import ARRAY_KINDS
    from unet.dataset.dicom_series import OTHER_FORMATS, is_series_folder
    from unet.dataset.names import _READABLE, UNSTACKED

    assert _READABLE | set(ARRAY_KINDS) | set(UNSTACKED) - {".dcm", ".nii.gz"} <= OTHER_FORMATS
    assert not {".dcm", ".ima", ""} & OTHER_FORMATS  # DICOM exports' names are still read
    (tmp_path / name).write_bytes(bytes(200))
    reads = []
    monkeypatch.setattr(dicom, "open", lambda p, *a: reads.append(p) or open(p, *a),  # noqa: SIM115
                        raising=False)
    assert not is_series_folder(tmp_path)
    assert reads == []
