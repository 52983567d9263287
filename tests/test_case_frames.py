"""Volumes inside a split group (ACDC: a patient's ED and ES frames, split together by
patient): each volume of the spacing table scored as its own case, not the group stacked."""

from __future__ import annotations

import csv

import pytest

from tests.test_case_boundary import CASES, _evaluate

# a patient's two frames, each a volume of its own spacing (rows named as unet unstack names
# them); split.group_by names the patient, so that both frames land in one split part
TABLE = "case,z,y,x,unit\np1_ed,2.5,0.5,0.5,mm\np1_es,1,1,1,mm\np2_ed,1,1,1,mm\n"


@pytest.fixture
def frames(monkeypatch):
    monkeypatch.setattr("tests.test_case_boundary.CASES", {
        "p1_ed": CASES["a"], "p1_es": CASES["a"], "p2_ed": CASES["b"]})


def test_each_frame_of_a_patient_is_a_case_in_its_own_mm(tmp_path, frames):
    # the patient's group had no row of its own and was refused (stacking both frames as one
    # volume, the ES frame's first slice beside the ED frame's last, would measure nothing)
    (tmp_path / "spacing.csv").write_text(TABLE)
    summary = _evaluate(tmp_path, r"^(p\d)_", spacing=str(tmp_path / "spacing.csv"))
    rows = list(csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): r for r in rows}
    assert float(got["p1_ed", "1"]["hd95"]) == pytest.approx(12.5)  # 5 slices of 2.5 mm
    assert float(got["p1_es", "1"]["hd95"]) == pytest.approx(5)
    assert got["p2_ed", "1"]["hd95"] == "0"
    cases = summary["per_case"]
    assert cases["cases"] == 3 and sorted(cases["case_spacing"]) == ["p1_ed", "p1_es", "p2_ed"]
    assert "spacing table" in cases["rule"]


def test_a_frame_missing_from_the_table_is_refused_by_its_own_name(tmp_path, frames):
    # the refusal named the patient (case p1), whose row added by hand, as it advised, stacked
    # both frames as one volume p1 without a word: it names the frame volume without a row
    (tmp_path / "spacing.csv").write_text(TABLE.replace("p1_es,1,1,1,mm\n", ""))
    with pytest.raises(ValueError, match=r"case p1_es \(1 of 3\) has no row in .*spacing\.csv"):
        _evaluate(tmp_path, r"^(p\d)_", spacing=str(tmp_path / "spacing.csv"))
    assert not (tmp_path / "summary.json").exists()



@pytest.mark.parametrize("table", [TABLE, "case,z,y,x,unit\np1,1,1,1,mm\np2,1,1,1,mm\n"])
def test_the_cases_are_derived_once_and_say_whether_a_group_was_split(tmp_path, frames,
                                                                       monkeypatch, table):
    # per_case derived every id's case again from the manifest (0.2 s of 20,000 ids by
    # folder) after scoring had: now it takes the scoring's, and says as before whether the
    # table's volumes split a patient's group (the first table) or not (rows per patient)
    import unet.evaluate.cases as cases

    calls, grouped = [], cases.groups_of
    monkeypatch.setattr(cases, "groups_of", lambda *a: calls.append(a) or grouped(*a))
    (tmp_path / "spacing.csv").write_text(table)
    summary = _evaluate(tmp_path, r"^(p\d)_", spacing=str(tmp_path / "spacing.csv"))
    assert len(calls) == 1
    split = table == TABLE
    assert (cases.WITHIN_GROUPS in summary["per_case"]["rule"]) == split
    assert summary["per_case"]["cases"] == (3 if split else 2)
