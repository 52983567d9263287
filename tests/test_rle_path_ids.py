"""Run-length encodings whose CSV ids are made from the image's path (rle.id_path), as
Kaggle's UW-Madison GI Tract gives them: id case1_day0_slice_0001 for
train/case1/case1_day0/scans/slice_0001_6_5_1.50_1.50.png, three rows (classes) per slice,
most empty; file stems repeat across cases and days, so they cannot be the ids."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

RLE = {"csv": "train.csv", "id_column": "id", "rle_column": "segmentation",
       "class_column": "class", "order": "rows", "starts": "absolute", "absent": "unpaired"}
UW_IDS = r"(case\d+_day\d+)/scans/(slice_\d+)"


def _uw(root, rows=None):
    """Two cases of one day, two 16-bit slices each; slice 2 of case 1 holds the organs."""
    ids = []
    for case in (1, 2):
        scans = root / "train" / f"case{case}" / f"case{case}_day0" / "scans"
        scans.mkdir(parents=True)
        for s in (1, 2):
            img = np.full((5, 6), 900 * s + case, np.uint16)
            Image.fromarray(img).save(scans / f"slice_{s:04d}_6_5_1.50_1.50.png")
            ids.append(f"case{case}_day0_slice_{s:04d}")
    rows = rows or [(i, c, "8 3" if i == "case1_day0_slice_0002" and c == "stomach" else "")
                    for i in ids for c in ("large_bowel", "small_bowel", "stomach")]
    with open(root / "train.csv", "w", newline="") as f:
        csv.writer(f).writerows([("id", "class", "segmentation"), *rows])
    return ids


def _layout(**rle):
    return Layout(images="train", recursive=True, rle=tuple(sorted({**RLE, **rle}.items())))


def test_ids_made_from_the_path_pair_each_slice_with_its_rows(tmp_path):
    # Without rle.id_path the 4 slices were refused as sharing the stems slice_0001_6_5_...
    ids = _uw(tmp_path)
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                              _layout(id_path=UW_IDS))
    pairs = {p["id"]: p for p in manifest["pairs"]}
    assert sorted(pairs) == ids
    mask = np.asarray(Image.open(pairs["case1_day0_slice_0002"]["mask"]))
    want = np.zeros((5, 6), np.uint8)
    want.flat[7:10] = 3  # stomach, the third class name in sorted order; rows are C order
    assert (mask == want).all()
    for empty in ("case1_day0_slice_0001", "case2_day0_slice_0002"):  # all rows empty
        assert not np.asarray(Image.open(pairs[empty]["mask"])).any()


def test_a_path_the_pattern_misses_and_ids_it_makes_twice_are_named(tmp_path):
    _uw(tmp_path)
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(id_path=r"(case\d+)_"))
    assert "case1/case1_day0/scans/slice_0001_6_5_1.50_1.50.png" in str(err.value)
    assert "same id 'case1'" in str(err.value) and "rle.id_path" in str(err.value)
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(id_path=r"(day9)"))
    assert "rle.id_path" in str(err.value) and "matches none of" in str(err.value)


def test_a_pattern_without_groups_is_refused(tmp_path):
    _uw(tmp_path)
    with pytest.raises(DataLayoutError, match=r"rle.id_path .*no group"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(id_path=r"case\d+"))


def test_pixels_of_two_classes_are_counted_where_the_later_row_wins(tmp_path, caplog):
    # Stomach and large bowel overlap in UW-Madison's rows; a pixel holds one class here, so
    # the later row's wins, and the 2 pixels large_bowel lost went unsaid
    rows = [("case1_day0_slice_0001", "large_bowel", "1 4"), ("case1_day0_slice_0001",
            "stomach", "3 4"), ("case1_day0_slice_0002", "large_bowel", "")]
    rows += [(f"case2_day0_slice_000{s}", "small_bowel", "") for s in (1, 2)]
    _uw(tmp_path, rows)
    with caplog.at_level("WARNING"):
        manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                                  _layout(id_path=UW_IDS))
    mask = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert mask.flat[:7].tolist() == [1, 1, 3, 3, 3, 3, 0]  # large_bowel 1, stomach 3
    said = [r.getMessage() for r in caplog.records if "overlap" in r.getMessage()]
    assert len(said) == 1 and "2 pixels of 1 image" in said[0]
    assert "large_bowel under stomach: 2" in said[0]


def test_each_row_is_decoded_once_for_its_mask_and_the_overlap_warning(tmp_path, caplog,
                                                                       monkeypatch):
    # The overlap warning decoded every row of the CSV a second time before the masks were
    # drawn (an estimated 15-50 s on UW-Madison's 115k rows); now counted as they are drawn
    import unet.dataset.rle as rle
    import unet.dataset.rle_overlap as rle_overlap

    decoded: list[str] = []
    real = rle.decode

    def counted(encoding, *args, **kwargs):
        decoded.append(encoding)
        return real(encoding, *args, **kwargs)

    # drawing (overlaps counted there), and rle_overlap should it decode again (it imports no
    # decode now); rle_order samples orders apart
    for module in (rle, rle_overlap):
        monkeypatch.setattr(module, "decode", counted, raising=False)
    rows = [("case1_day0_slice_0001", "large_bowel", "1 4"), ("case1_day0_slice_0001",
            "stomach", "3 4"), ("case1_day0_slice_0002", "large_bowel", "2 2")]
    rows += [(f"case2_day0_slice_000{s}", "small_bowel", "") for s in (1, 2)]
    _uw(tmp_path, rows)
    with caplog.at_level("WARNING"):
        write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout(id_path=UW_IDS))
    assert sorted(decoded) == ["1 4", "2 2", "3 4"], decoded
    [said] = [r.getMessage() for r in caplog.records if "overlap" in r.getMessage()]
    assert said.startswith("2 pixels of 1 image(s)") and "large_bowel under stomach: 2" in said


def test_a_pixel_three_classes_cover_is_counted_once(tmp_path, caplog):
    # large_bowel, small_bowel, stomach over the same 4 pixels: stomach is drawn, the other two
    # lose them to it; the count was 8 pixels ('large_bowel under small_bowel: 4'). Counted as
    # the download does: from the rows write_rle_mask decodes as it draws
    from unet.dataset.rle import RleMasks, write_rle_mask
    from unet.dataset.rle_overlap import note_drawn

    names = ((1, "large_bowel"), (2, "small_bowel"), (3, "stomach"))
    rows = (("1 4", 1), ("1 4", 2), ("1 4", 3), ("9 2", 2), ("10 2", 1))
    masks = RleMasks(rows, "rows", Path("t.csv"), True, names)
    with caplog.at_level("WARNING"):
        lost = note_drawn([write_rle_mask(masks, Path("i.png"), (4, 4), tmp_path / "i.png")],
                          names)
    assert lost == {(1, 3): 4, (2, 3): 4, (2, 1): 1}  # (lost, drawn): pixel 10 is large_bowel
    [said] = [r.getMessage() for r in caplog.records if "overlap" in r.getMessage()]
    assert said.startswith("5 pixels of 1 image(s)")
    assert "large_bowel under stomach: 4; small_bowel under large_bowel: 1; small_bowel under " \
        "stomach: 4" in said


@pytest.mark.parametrize("pattern, made", [(r"(case\d+/case\d+_day\d+)/scans/(slice_\d+)",
                                            "case1/case1_day0_slice_0001"),
                                           (r"(xyz)?scans/", "")])
def test_an_id_holding_a_slash_or_empty_is_refused_by_key(tmp_path, pattern, made):
    # a group across folders made 'case1/case1_day0_slice_0001', an id that is no file name
    # of the outputs it names; optional groups all left out made the empty id ''
    _uw(tmp_path)
    with pytest.raises(DataLayoutError, match=rf"rle.id_path .* makes the id {made!r} of "
                       r"case1/case1_day0/scans/slice_0001"):
        write_manifest(tmp_path / "out" / "m.json", "local", tmp_path, _layout(id_path=pattern))


@pytest.mark.parametrize("pattern, meant", [
    (r"(case\d+_day\d+)\\scans\\(slice_\d+)", r"(case\d+_day\d+)/scans/(slice_\d+)"),
    (r"(case\d+_day\d+)\scans\(slice_\d+)", r"(case\d+_day\d+)/scans/(slice_\d+)")])
def test_an_id_path_with_windows_separators_is_told_paths_use_slashes(tmp_path, pattern, meant):
    # '\\scans' (or '\scans': whitespace, then 'cans') matches no path: paths are read with
    # '/', and the refusal said only 'widen it'
    from unet.dataset.rle_ids import submission_ids

    _uw(tmp_path)
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(id_path=pattern))
    assert "rle.id_path" in str(err.value) and "'/' separators" in str(err.value), err.value
    assert meant in str(err.value), err.value
    with pytest.raises(DataLayoutError, match="'/' separators") as err:
        submission_ids(["case1/case1_day0/scans/slice_0001_6_5.png"], pattern, recursive=True)
    assert meant in str(err.value), err.value


def _rows_but_slice_1_of_case_1() -> list[tuple[str, str, str]]:
    """UW-Madison's rows less every row of case1_day0_slice_0001 (a slice the CSV omits)."""
    return [("case1_day0_slice_0002", "stomach", "8 3"), ("case2_day0_slice_0001", "stomach", ""),
            ("case2_day0_slice_0002", "stomach", "")]


def test_a_slice_without_rows_is_refused_by_its_path_and_id_not_its_repeated_name(tmp_path):
    # The refusal named slice_0001_6_5_1.50_1.50.png, a name every case and day holds: which
    # slice the CSV left out could not be told
    _uw(tmp_path, _rows_but_slice_1_of_case_1())
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout(id_path=UW_IDS))
    said = str(err.value)
    assert "case1/case1_day0/scans/slice_0001_6_5_1.50_1.50.png (id case1_day0_slice_0001)" \
        in said and "rle.absent: empty" in said, said


def test_absent_empty_makes_a_slice_without_rows_background(tmp_path):
    ids = _uw(tmp_path, _rows_but_slice_1_of_case_1())
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                              _layout(id_path=UW_IDS, absent="empty"))
    pairs = {p["id"]: p for p in manifest["pairs"]}
    assert sorted(pairs) == ids
    assert not np.asarray(Image.open(pairs["case1_day0_slice_0001"]["mask"])).any()
    assert np.asarray(Image.open(pairs["case1_day0_slice_0002"]["mask"])).any()
