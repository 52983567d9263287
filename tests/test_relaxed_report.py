"""evaluate.relaxed_slack in the report: metrics.tsv, experiments.tsv and their captions."""

from __future__ import annotations

import csv

import pytest

from tests.test_objects_experiments import _rendered
from tests.test_relaxed import _evaluate, _line
from unet.common.fileio import read_json
from unet.report.compare import HEADER, compare_experiments
from unet.report.plot import metrics_table


def _rows(path, key: tuple[str, ...]) -> dict:
    with open(path) as f:
        return {tuple(r[k] for k in key): r for r in csv.DictReader(f, delimiter="\t")}


@pytest.fixture
def runs(tmp_path) -> dict:
    """Two evaluations of one line drawn 1 px off: with a slack of 1 px, and without."""
    for name, kw in (("roads", {"relaxed_slack": 1}), ("plain", {})):
        (tmp_path / name).mkdir()
        _evaluate(tmp_path / name, {"a": _line(6) * 255}, _line(5) * 255, **kw)
    return {n: tmp_path / n / "s.json" for n in ("roads", "plain")}


def test_metrics_tsv_shows_each_scored_class(runs, tmp_path):
    metrics_table(read_json(runs["roads"]), tmp_path / "m.tsv")
    table = _rows(tmp_path / "m.tsv", ("method", "class"))
    assert [table[("raw", "1")][f"relaxed_{k}"] for k in ("precision", "recall", "f1")] == [
        "1.0000"] * 3
    assert table[("raw", "1")]["mean_dice"] == "0.0000"  # what the slack forgives
    assert table[("raw", "0")]["relaxed_precision"] == ""  # the background is not scored
    metrics_table(read_json(runs["plain"]), tmp_path / "p.tsv")
    assert "relaxed" not in (tmp_path / "p.tsv").read_text()


def test_experiments_tsv_shows_it_where_set_and_is_unchanged_where_not(runs, tmp_path):
    compare_experiments(runs, tmp_path / "both.tsv")
    got = _rows(tmp_path / "both.tsv", ("experiment",))
    assert got[("roads",)]["relaxed_slack"] == "1"
    assert got[("roads",)]["relaxed_f1"] == "1.0000"
    assert got[("plain",)]["relaxed_slack"] == got[("plain",)]["relaxed_f1"] == ""
    compare_experiments({"plain": runs["plain"]}, tmp_path / "plain.tsv")  # off: as before
    assert (tmp_path / "plain.tsv").read_text().splitlines()[0].split("\t") == list(HEADER)


@pytest.mark.parametrize("name", ["table.rst", "experiments.rst"])
def test_the_captions_describe_the_columns_where_the_slack_is_set(name):
    for slack in (0, 3):
        assert "relaxed_recall" in _rendered(name, {"evaluate": {"relaxed_slack": slack}})
    assert "relaxed_recall" not in _rendered(name, {"evaluate": {"relaxed_slack": None}})
    assert "relaxed_recall" not in _rendered(name, {})
