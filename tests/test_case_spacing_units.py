"""A spacing.csv row without a unit (a NIfTI header of unknown units) beside rows in mm: the
refusal names the cases without one and the fix, where it advised resampling the volumes."""

from __future__ import annotations

import pytest

from unet.evaluate.case_volumes import case_spacing

IDS = ["a_000", "b_000", "c_000"]
GROUPS = {i: i[0] for i in IDS}


def test_a_row_without_a_unit_is_named_with_its_fix(tmp_path):
    # b's NIfTI said no unit (xyzt_units 0), a's and c's said mm: unstack wrote b's row blank
    table = tmp_path / "spacing.csv"
    table.write_text("case,z,y,x,unit\na,2.5,0.8,0.8,mm\nb,5,0.7,0.7,\nc,5,0.7,0.7,mm\n")
    with pytest.raises(ValueError) as got:
        case_spacing(str(table), GROUPS, IDS)
    message = str(got.value)
    assert "case b" in message and "no unit" in message and "'mm'" in message
    assert "unit column" in message and "resample" not in message


def test_rows_of_two_named_units_are_still_refused(tmp_path):
    table = tmp_path / "spacing.csv"
    table.write_text("case,z,y,x,unit\na,2.5,0.8,0.8,mm\nb,5,0.7,0.7,um\nc,5,0.7,0.7,mm\n")
    with pytest.raises(ValueError, match=r"several units \('mm', 'um'\)"):
        case_spacing(str(table), GROUPS, IDS)


def test_rows_all_without_a_unit_are_one_unit(tmp_path):
    table = tmp_path / "spacing.csv"
    table.write_text("case,z,y,x,unit\na,2.5,0.8,0.8,\nb,5,0.7,0.7,\nc,5,0.7,0.7,\n")
    got = case_spacing(str(table), GROUPS, IDS)
    assert got.unit == "" and got.by_case["b"] == (5.0, 0.7, 0.7)
