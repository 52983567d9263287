"""`unet rtstruct`'s refusals: each names the file or ROI and the fix, and writes nothing."""

from __future__ import annotations

import sys

import pytest

from tests.rtstruct_files import box, ct_series, rtstruct
from unet.cli import main

pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")


def _run(capsys, *args) -> tuple[int, str]:
    code = main(["rtstruct", *map(str, args)])
    return code, capsys.readouterr().err


def _rs(tmp_path, modality: str = "RTSTRUCT"):
    uids = ct_series(tmp_path / "ct")
    return rtstruct(tmp_path / "rs.dcm", [
        (1, "Lung", [(box(1.5, 4.5, 1.5, 4.5, 0.0), uids[0], "CLOSED_PLANAR")]),
        (2, "GTV", [(box(2.5, 3.5, 2.5, 3.5, 0.0), uids[0], "CLOSED_PLANAR")])], modality)


def _nothing_written(tmp_path) -> bool:
    return not (tmp_path / "masks").exists() or not list((tmp_path / "masks").iterdir())


def test_a_file_of_another_modality_is_refused_naming_it(tmp_path, capsys):
    rs = _rs(tmp_path, "CT")
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2
    assert f"{rs} is no RTSTRUCT file (its Modality is CT)" in err
    assert _nothing_written(tmp_path)


def test_a_folder_of_two_series_is_refused_naming_them(tmp_path, capsys):
    rs = _rs(tmp_path)
    ct_series(tmp_path / "ct", series="1.2.3.4", prefix="MR")
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2
    assert "holds 2 series (SeriesInstanceUID)" in err and "1.2.3.4 (4 files, e.g. MR0.dcm)" in err
    assert _nothing_written(tmp_path)


def test_an_roi_not_there_is_refused_listing_the_rois(tmp_path, capsys):
    code, err = _run(capsys, _rs(tmp_path), tmp_path / "ct", tmp_path / "masks",
                     "--roi", "Heart")
    assert code == 2
    assert "--roi 'Heart'" in err and "its ROIs are 'Lung', 'GTV'" in err
    assert _nothing_written(tmp_path)


def test_an_rtstruct_in_the_ct_folder_is_refused_naming_it(tmp_path, capsys):
    rs = _rs(tmp_path)
    inside = tmp_path / "ct" / "RS.dcm"
    inside.write_bytes(rs.read_bytes())
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2
    assert f"{inside} is no image slice" in err and "Modality RTSTRUCT" in err
    assert "move it out of the folder" in err


def test_masks_there_already_are_not_overwritten(tmp_path, capsys):
    rs = _rs(tmp_path)
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks/CT2.png").write_bytes(b"mine")
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2 and "CT2.png exists (1 of the 5 files do)" in err
    # the fix named unet unstack and its page files, another command's
    assert "unstack" not in err and "page" not in err
    assert (tmp_path / "masks/CT2.png").read_bytes() == b"mine"
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["CT2.png"]


def test_missing_folders_are_asked_for(tmp_path, capsys):
    code, err = _run(capsys, _rs(tmp_path))
    assert code == 2 and "give the CT series' folder and a folder for the masks" in err


def test_without_pydicom_the_extra_is_named(tmp_path, capsys, monkeypatch):
    rs = _rs(tmp_path)
    monkeypatch.setitem(sys.modules, "pydicom", None)  # import pydicom raises ImportError
    code, err = _run(capsys, rs, "--list")
    assert code == 2 and f"{rs}: reading DICOM RTSTRUCT" in err
    assert "pip install -e '.[dicom]'" in err


def _framed(tmp_path, ct_frame: str, rs_frame: str, rs_series: str | None = None):
    uids = ct_series(tmp_path / "ct", frame=ct_frame, series="1.2.826.0.1.7")
    return rtstruct(tmp_path / "rs.dcm", [
        (1, "Lung", [(box(1.5, 4.5, 1.5, 4.5, 0.0), uids[0], "CLOSED_PLANAR")])],
        frame=rs_frame, series=rs_series)


def test_a_ct_series_in_another_frame_of_reference_is_refused(tmp_path, capsys):
    # the contours' mm belong to another patient coordinate system: same geometry or not,
    # the masks would be placed wrong without a word
    rs = _framed(tmp_path, ct_frame="1.2.826.0.1.1", rs_frame="1.2.826.0.1.2")
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2
    assert "drawn in frame of reference 1.2.826.0.1.2" in err
    assert f"CT slices in {tmp_path / 'ct'} are in 1.2.826.0.1.1" in err
    assert _nothing_written(tmp_path)


def test_the_same_frame_is_drawn_and_another_series_in_it_is_warned_of(tmp_path, capsys):
    rs = _framed(tmp_path, ct_frame="1.2.826.0.1.1", rs_frame="1.2.826.0.1.1",
                 rs_series="1.2.826.0.1.9")
    code, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 0 and len(list((tmp_path / "masks").glob("*.png"))) == 4
    assert "names series 1.2.826.0.1.9" in err and "holds series 1.2.826.0.1.7" in err


def test_a_class_table_that_cannot_be_written_leaves_no_masks(tmp_path, capsys, monkeypatch):
    # a full disk at the class table: masks without their table would look complete
    import unet.dataset.rtstruct_masks as masks

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(masks.csv, "writer", full)
    code, err = _run(capsys, _rs(tmp_path), tmp_path / "ct", tmp_path / "masks")
    assert code == 1 and "rtstruct_classes.csv: its disk is full" in err
    assert _nothing_written(tmp_path)
