"""`unet rtstruct`: an RTSTRUCT's contours drawn as label PNGs, one per CT slice, by hand."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from tests.rtstruct_files import COLS, ROWS, box, ct_series, mm, rtstruct
from unet.cli import main

pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["rtstruct", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _masks(folder) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def _table(tmp_path) -> list[list[str]]:
    return list(csv.reader((tmp_path / "masks/rtstruct_classes.csv").read_text().splitlines()))


def _blank() -> np.ndarray:
    return np.zeros((ROWS, COLS), np.uint8)


def test_a_square_fills_the_pixels_whose_centres_it_holds_on_its_slice(tmp_path, capsys):
    uids = ct_series(tmp_path / "ct")
    # pixel positions 1.5..4.5 across, 3.5..6.5 down: centres 2, 3, 4 and rows 4, 5, 6
    rs = rtstruct(tmp_path / "rs.dcm", [(7, "GTV", [(box(1.5, 4.5, 3.5, 6.5, 2.5), uids[1],
                                                    "CLOSED_PLANAR")])])
    code, out, _ = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 0
    want = _blank()
    want[4:7, 2:5] = 1
    masks = _masks(tmp_path / "masks")
    assert list(masks) == ["CT0.png", "CT1.png", "CT2.png", "CT3.png"]
    assert (masks["CT1.png"] == want).all()
    assert all(not m.any() for name, m in masks.items() if name != "CT1.png")
    rows = _table(tmp_path)
    assert rows == [["value", "roi_name", "roi_number"], ["0", "background", ""],
                    ["1", "GTV", "7"]]
    assert 'masks: {values: [0, 1], names: ["background", "GTV"]}' in out


def test_an_inner_contour_is_a_hole(tmp_path, capsys):
    uids = ct_series(tmp_path / "ct")
    outer, inner = box(1.5, 20.5, 1.5, 15.5, 0.0), box(5.5, 10.5, 5.5, 10.5, 0.0)
    rs = rtstruct(tmp_path / "rs.dcm", [(1, "Body", [(outer, uids[0], "CLOSED_PLANAR"),
                                                     (inner, uids[0], "CLOSED_PLANAR")])])
    assert _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")[0] == 0
    want = _blank()
    want[2:16, 2:21] = 1
    want[6:11, 6:11] = 0
    assert (_masks(tmp_path / "masks")["CT0.png"] == want).all()


def test_a_flipped_row_direction_maps_x_from_the_right(tmp_path, capsys):
    # rows run towards -x: column c of a slice at x = 10 lies at x = 10 - c mm
    uids = ct_series(tmp_path / "ct", row=(-1, 0, 0), origin=(10.0, -20.0))
    # x 7.5..4.5 mm: positions 2.5..5.5 (columns 3, 4, 5); y -13..-7 mm: 3.5..6.5 (rows 4-6)
    square = np.array([[7.5, -13, 5], [4.5, -13, 5], [4.5, -7, 5], [7.5, -7, 5]], float)
    rs = rtstruct(tmp_path / "rs.dcm", [(1, "Cord", [(square, uids[2], "CLOSED_PLANAR")])])
    assert _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")[0] == 0
    want = _blank()
    want[4:7, 3:6] = 1
    assert (_masks(tmp_path / "masks")["CT2.png"] == want).all()


def test_a_contour_without_its_slice_uid_lies_on_the_slice_nearest_its_plane(tmp_path,
                                                                              capsys):
    ct_series(tmp_path / "ct")
    # 5.9 mm is within half the 2.5 mm spacing of slice 2 (5.0 mm): drawn there
    rs = rtstruct(tmp_path / "rs.dcm", [(1, "Heart", [(box(1.5, 4.5, 3.5, 6.5, 5.9), None,
                                                      "CLOSED_PLANAR")])])
    assert _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")[0] == 0
    masks = _masks(tmp_path / "masks")
    assert masks["CT2.png"][4:7, 2:5].all() and masks["CT2.png"].sum() == 9
    assert not masks["CT3.png"].any()


def test_a_slice_uid_wins_over_the_plane_position(tmp_path, capsys):
    uids = ct_series(tmp_path / "ct")
    # points written at 0 mm (an exporter's rounding) but naming slice 3's UID
    rs = rtstruct(tmp_path / "rs.dcm", [(1, "Heart", [(box(1.5, 4.5, 3.5, 6.5, 0.0), uids[3],
                                                      "CLOSED_PLANAR")])])
    assert _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")[0] == 0
    masks = _masks(tmp_path / "masks")
    assert masks["CT3.png"].sum() == 9 and not masks["CT0.png"].any()


def test_a_contour_on_no_slice_is_refused_naming_its_roi_and_z(tmp_path, capsys):
    ct_series(tmp_path / "ct")
    rs = rtstruct(tmp_path / "rs.dcm", [(1, "Heart", [(box(1.5, 4.5, 3.5, 6.5, 9.0), None,
                                                      "CLOSED_PLANAR")])])
    code, _, err = _run(capsys, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 2
    assert "ROI 'Heart'" in err and "9.00 mm" in err and "0.00 to 7.50" in err
    assert not list((tmp_path / "masks").glob("*")) if (tmp_path / "masks").exists() else True


def _two(tmp_path):
    uids = ct_series(tmp_path / "ct")
    return rtstruct(tmp_path / "rs.dcm", [
        (1, "Lung", [(box(1.5, 8.5, 1.5, 8.5, 0.0), uids[0], "CLOSED_PLANAR")]),
        (2, "GTV", [(box(5.5, 12.5, 5.5, 12.5, 0.0), uids[0], "CLOSED_PLANAR")])])


def test_overlapping_rois_the_later_drawn_over_the_earlier(tmp_path, capsys):
    code, out, _ = _run(capsys, _two(tmp_path), tmp_path / "ct", tmp_path / "masks")
    assert code == 0
    want = _blank()
    want[2:9, 2:9] = 1
    want[6:13, 6:13] = 2
    assert (_masks(tmp_path / "masks")["CT0.png"] == want).all()
    assert "note: 9 pixels lie in more than one ROI" in out


def test_roi_order_numbers_the_classes_and_ignores_case(tmp_path, capsys):
    code, out, _ = _run(capsys, _two(tmp_path), tmp_path / "ct", tmp_path / "masks",
                        "--roi", "gtv", "--roi", "LUNG")
    assert code == 0
    want = _blank()
    want[6:13, 6:13] = 1
    want[2:9, 2:9] = 2
    assert (_masks(tmp_path / "masks")["CT0.png"] == want).all()
    assert 'names: ["background", "GTV", "Lung"]' in out
    rows = _table(tmp_path)
    assert rows[1:] == [["0", "background", ""], ["1", "GTV", "2"], ["2", "Lung", "1"]]


def test_the_masks_pair_with_the_ct_files_by_stem_at_their_size(tmp_path, capsys):
    from unet.common.dicom import read_dicom

    assert _run(capsys, _two(tmp_path), tmp_path / "ct", tmp_path / "masks")[0] == 0
    cts = sorted((tmp_path / "ct").glob("*.dcm"))
    masks = sorted((tmp_path / "masks").glob("*.png"))
    assert [p.stem for p in cts] == [p.stem for p in masks]
    assert all(read_dicom(c).shape == np.asarray(Image.open(m)).shape
               for c, m in zip(cts, masks, strict=True))


def test_list_counts_each_rois_contours_and_point_contours_are_skipped(tmp_path, capfd):
    uids = ct_series(tmp_path / "ct")
    rs = rtstruct(tmp_path / "rs.dcm", [
        (3, "Marker", [(mm([4], [4], 0.0), uids[0], "POINT")]),
        (1, "Lung", [(box(1.5, 4.5, 1.5, 4.5, z), uid, "CLOSED_PLANAR")
                     for z, uid in zip((0.0, 2.5), uids, strict=False)])])
    code, out, _ = _run(capfd, rs, "--list")
    assert code == 0
    assert out.splitlines() == ["   1  Lung: 2 closed contours",
                                "   3  Marker: 0 closed contours (1 point or open, not drawn)"]
    code, _, err = _run(capfd, rs, tmp_path / "ct", tmp_path / "masks")
    assert code == 0 and "ROI 'Marker': 1 contour(s) of type POINT" in err
    assert _masks(tmp_path / "masks")["CT0.png"].max() == 1  # Lung 1, Marker 2 (empty)
