"""Each case's own voxel spacing (evaluate.voxel_spacing as the table `unet unstack` writes):
a case's HD95 in its own mm, a case missing from the table refused by name, and unstack's
loop of volumes filling the table a row per case."""

from __future__ import annotations

import csv
import math
import threading

import numpy as np
import pytest

from tests.test_case_boundary import CASES, D, H, W, _cube, _evaluate

TABLE = "case,z,y,x,unit\na,2.5,0.5,0.5,mm\nd,1,1,1,mm\nb,1,1,1,mm\nc,3,0.7,0.7,mm\n"


@pytest.fixture
def four_cases(monkeypatch):
    # case d: case a's cube pair (the prediction 5 slices past the target) in a scan of 1 mm
    monkeypatch.setitem(CASES, "d", CASES["a"])


def test_each_case_s_hd95_is_in_its_own_mm(tmp_path, four_cases):
    # a LiTS-like set: case a of 2.5 mm slices, case d of 1 mm; one spacing for both put one
    # of them in the wrong mm without a word
    (tmp_path / "spacing.csv").write_text(TABLE)
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"))
    rows = list(csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): r for r in rows}
    assert float(got["a", "1"]["hd95"]) == pytest.approx(12.5)
    assert float(got["d", "1"]["hd95"]) == pytest.approx(5)
    diagonal = math.sqrt((D * 3) ** 2 + (H * 0.7) ** 2 + (W * 0.7) ** 2)  # case c's own
    mean = summary["per_case"]["methods"]["raw"]["classes"]["1"]["mean"]["hd95"]
    assert mean == pytest.approx((12.5 + 5 + 0 + diagonal) / 4)
    cases = summary["per_case"]
    assert cases["spacing_unit"] == "mm" and cases["voxel_spacing"] == str(tmp_path / "spacing.csv")
    assert cases["case_spacing"]["a"] == [2.5, 0.5, 0.5]
    assert "spacing.csv" in cases["rule"]


def test_a_case_missing_from_the_table_is_refused_by_name(tmp_path, four_cases):
    (tmp_path / "spacing.csv").write_text(TABLE.replace("c,3,0.7,0.7,mm\n", ""))
    with pytest.raises(ValueError, match=r"case c .*spacing\.csv.*unet unstack"):
        _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"))
    assert not (tmp_path / "summary.json").exists()  # refused before anything is written


def test_a_missing_row_is_refused_before_the_other_cases_are_scored(tmp_path, four_cases,
                                                                  monkeypatch):
    """The missing row was found only after every slice of every case was scored (minutes on
    a large set): only the row-less case's slices are scored, to see it is labelled."""
    import unet.evaluate.evaluate as evaluate

    seen = []
    score = evaluate.score_image
    monkeypatch.setattr(evaluate, "score_image", lambda job: seen.append(job.image_id)
                        or score(job))
    (tmp_path / "spacing.csv").write_text(TABLE.replace("c,3,0.7,0.7,mm\n", ""))
    with pytest.raises(ValueError, match=r"case c \(1 of 4\) has no row in .*spacing\.csv"):
        _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"))
    assert sorted(seen) == sorted(f"c_{z}" for z in range(D))


def test_a_case_with_no_labelled_pixel_needs_no_row(tmp_path, monkeypatch):
    """Case e's ground truth is all ignored, so it has no score: its missing row in the table
    refused the whole evaluation."""
    monkeypatch.setitem(CASES, "e", (np.full((D, H, W), 255, np.uint8), _cube(4)))
    (tmp_path / "spacing.csv").write_text(TABLE)  # rows a to d: none for e
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"),
                        ignore=255)
    assert sorted(summary["per_case"]["case_spacing"]) == ["a", "b", "c"]
    assert summary["per_case"]["cases"] == 3 and len(summary["unlabelled"]) == D


def test_cases_of_two_units_are_refused(tmp_path):
    (tmp_path / "spacing.csv").write_text(TABLE.replace("c,3,0.7,0.7,mm", "c,3,0.7,0.7,um"))
    with pytest.raises(ValueError, match="unit"):
        _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"))


def test_a_malformed_table_is_named(tmp_path):
    (tmp_path / "spacing.csv").write_text("case,z,y,x,unit\na,0,1,1,mm\n")
    with pytest.raises(ValueError, match=r"spacing\.csv.*row 2"):
        _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=str(tmp_path / "spacing.csv"))


def test_a_loop_of_unstacks_fills_the_table(tmp_path, capsys):
    nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")
    from unet.cli import main
    from unet.dataset.spacing_table import read_spacing_table

    for case, z in (("liver_1", 5.0), ("liver_2", 0.8)):
        img = nib.Nifti1Image(np.zeros((6, 4, 3), np.int16), np.diag([0.7, 0.6, z, 1.0]))
        img.header.set_xyzt_units("mm")
        nib.save(img, tmp_path / f"{case}.nii.gz")
        assert main(["unstack", str(tmp_path / f"{case}.nii.gz"), str(tmp_path / "s")]) == 0
    assert "spacing.csv" in capsys.readouterr().out
    table = read_spacing_table(tmp_path / "s" / "spacing.csv")
    assert table == {"liver_1": ((5.0, 0.6, 0.7), "mm"), "liver_2": ((0.8, 0.6, 0.7), "mm")}
    # liver_1 split again from a resampled volume: its row replaced, not doubled
    for f in (tmp_path / "s").glob("liver_1_*.png"):
        f.unlink()
    img = nib.Nifti1Image(np.zeros((6, 4, 3), np.int16), np.diag([1, 1, 2.0, 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, tmp_path / "liver_1.nii.gz")
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "s")]) == 0
    lines = (tmp_path / "s" / "spacing.csv").read_text().splitlines()
    assert lines == ["case,z,y,x,unit", "liver_1,2,1,1,mm", "liver_2,0.8,0.6,0.7,mm"]


def test_concurrent_unstacks_lose_no_row(tmp_path):
    # `ls *.nii.gz | xargs -P 8 -n 1 unet unstack ... images`: each call adds its row at once
    from unet.dataset.spacing_table import read_spacing_table, record_spacing

    cases = [f"case_{i:02d}" for i in range(24)]
    threads = [threading.Thread(target=record_spacing, args=(tmp_path, c, (1.0 + i, 1, 1), "mm"))
               for i, c in enumerate(cases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(read_spacing_table(tmp_path / "spacing.csv")) == cases


@pytest.mark.workflow
def test_the_table_is_evaluate_s_input_and_a_missing_one_refused(tmp_path):
    # a table edited (a case split again) must rerun evaluate_masks: it is an input, not a
    # param; a table not there is refused before anything runs, naming the key and the fix
    from tests.conftest import TINY, copy_workflow, snakemake

    wd = copy_workflow(tmp_path)
    (wd / "cases.yaml").write_text("split: {group_by: '^(.+)_\\d+$'}\n"
                                   "evaluate: {voxel_spacing: tables/spacing.csv}\n")
    out = snakemake(wd, "-n", "--configfile", TINY, "cases.yaml", check=False)
    assert out.returncode != 0
    assert "evaluate.voxel_spacing tables/spacing.csv: no such table" in out.stderr + out.stdout
    (wd / "tables").mkdir()
    (wd / "tables" / "spacing.csv").write_text("case,z,y,x,unit\n")
    out = snakemake(wd, "-n", "--configfile", TINY, "cases.yaml")
    job = out.stdout[out.stdout.index("rule evaluate_masks:"):]
    assert "tables/spacing.csv" in job[:job.index("output:")]


def test_a_relative_table_is_under_the_data_folder(tmp_path, monkeypatch):
    from unet.config.experiments import ConfigError
    from unet.config.spacing_path import spacing_table_path

    monkeypatch.chdir(tmp_path)
    config = {"dataset": {"source": "local", "local": {"path": str(tmp_path / "data")}},
              "evaluate": {"voxel_spacing": "images/spacing.csv"}}
    (tmp_path / "data" / "images").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"images/spacing\.csv: no such table .*unet unstack"):
        spacing_table_path(config)
    (tmp_path / "data" / "images" / "spacing.csv").write_text("case,z,y,x,unit\n")
    assert spacing_table_path(config) == tmp_path / "data" / "images" / "spacing.csv"
    assert spacing_table_path({**config, "evaluate": {"voxel_spacing": [1, 1, 1]}}) is None


def test_a_table_saved_by_excel_reads(tmp_path):
    # Excel's "CSV UTF-8" starts the file with a BOM and ends lines with \r\n, and a row
    # typed as "b, 1, 1, 1, mm" must not read as a unit ' mm' beside 'mm'
    from unet.dataset.spacing_table import read_spacing_table, record_spacing

    (tmp_path / "spacing.csv").write_bytes(
        "\ufeffcase,z,y,x,unit\r\na,2.5,0.5,0.5,mm\r\nb, 1, 1, 1, mm\r\n".encode())
    assert read_spacing_table(tmp_path / "spacing.csv") == {
        "a": ((2.5, 0.5, 0.5), "mm"), "b": ((1.0, 1.0, 1.0), "mm")}
    record_spacing(tmp_path, "c", (3.0, 1.0, 1.0), "mm")  # unstack adds to the edited table
    assert sorted(read_spacing_table(tmp_path / "spacing.csv")) == ["a", "b", "c"]


def test_a_bad_row_is_named_by_its_line_in_the_file(tmp_path):
    from unet.dataset.spacing_table import read_spacing_table

    (tmp_path / "spacing.csv").write_text("case,z,y,x,unit\na,2.5,0.5,0.5,mm\n\n\nb,0,1,1,mm\n")
    with pytest.raises(ValueError, match=r"row 5 b,0,1,1,mm"):
        read_spacing_table(tmp_path / "spacing.csv")


def test_a_broken_table_is_refused_before_any_slice(tmp_path, capsys):
    # a table edited by hand into two rows of one case: refused after the slices were written,
    # the fixed table's next unstack was refused in turn, as the slices existed
    nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")
    from unet.cli import main

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "spacing.csv").write_text("case,z,y,x,unit\na,1,1,1,mm\na,2,1,1,mm\n")
    img = nib.Nifti1Image(np.zeros((6, 4, 3), np.int16), np.diag([0.7, 0.6, 2.0, 1.0]))
    nib.save(img, tmp_path / "liver_1.nii.gz")
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "s")]) != 0
    assert "spacing.csv: row 3 repeats case a" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["spacing.csv"]


@pytest.mark.parametrize("size", ["inf", "nan", "-inf"])
def test_a_size_that_is_no_number_of_mm_is_refused(tmp_path, size):
    # float('inf') and float('nan') read as numbers: a case scored at infinite spacing
    from unet.dataset.spacing_table import read_spacing_table

    (tmp_path / "spacing.csv").write_text(f"case,z,y,x,unit\na,{size},0.5,0.5,mm\n")
    with pytest.raises(ValueError, match=rf"row 2 a,{size},0.5,0.5,mm"):
        read_spacing_table(tmp_path / "spacing.csv")
