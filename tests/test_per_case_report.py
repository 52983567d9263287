"""Per-case scores (split.group_by) where a user compares: the report's metrics.tsv, its
captions and experiments.tsv; without groups, those outputs unchanged."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.test_per_case import P1, P2, _evaluate

GROUPS = r"^(p\d+)_\d+$"
REPORT = Path(__file__).resolve().parents[1] / "report"


def _tsv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines(), delimiter="\t"))


def _cut(path: Path, n: int) -> bytes:
    """The TSV without its last `n` columns, as bytes."""
    rows = [line.split("\t")[:-n] for line in path.read_text().splitlines()]
    return "".join("\t".join(r) + "\r\n" for r in rows).encode()


def test_experiments_tsv_shows_each_method_per_case_foreground_dice(tmp_path):
    from unet.report.compare import compare_experiments

    _evaluate(tmp_path, GROUPS, out="grouped")
    _evaluate(tmp_path, None, out="plain")
    out = tmp_path / "experiments.tsv"
    compare_experiments({"grouped": tmp_path / "grouped" / "summary.json",
                         "plain": tmp_path / "plain" / "summary.json"}, out)
    rows = {r["experiment"]: r for r in _tsv(out)}
    grouped = rows["grouped"]
    assert float(grouped["per_case_foreground_dice_mean"]) == pytest.approx((P1 + P2 + 1) / 3,
                                                                            abs=1e-4)
    assert float(grouped["per_case_foreground_dice_mean_positive"]) == pytest.approx(
        (P1 + P2) / 2, abs=1e-4)
    # an experiment evaluated without cases (an older run) has blanks, not zeros
    assert rows["plain"]["per_case_foreground_dice_mean"] == ""
    assert rows["plain"]["per_case_foreground_dice_mean_positive"] == ""


def test_experiments_tsv_without_cases_is_unchanged(tmp_path):
    from unet.report.compare import compare_experiments

    _evaluate(tmp_path, GROUPS, out="grouped")
    _evaluate(tmp_path, None, out="plain")
    compare_experiments({"e": tmp_path / "grouped" / "summary.json"}, tmp_path / "g.tsv")
    compare_experiments({"e": tmp_path / "plain" / "summary.json"}, tmp_path / "p.tsv")
    assert "per_case" not in (tmp_path / "p.tsv").read_text()
    assert _cut(tmp_path / "g.tsv", 2) == (tmp_path / "p.tsv").read_bytes()


def test_metrics_table_shows_each_class_and_region_per_case_dice(tmp_path):
    from unet.report.plot import metrics_table

    summary = _evaluate(tmp_path, GROUPS, {"tumour": [1]})
    metrics_table(summary, tmp_path / "m.tsv")
    rows = {r["name"] if r["class"] == "region" else r["class"]: r
            for r in _tsv(tmp_path / "m.tsv")}
    for key in ("1", "tumour"):
        assert float(rows[key]["per_case_dice_mean"]) == pytest.approx((P1 + P2 + 1) / 3,
                                                                        abs=1e-4)
        assert float(rows[key]["per_case_dice_mean_positive"]) == pytest.approx((P1 + P2) / 2,
                                                                                 abs=1e-4)
        assert rows[key]["cases_held"] == "2"
    assert rows["0"]["cases_held"] == ""  # the background is not scored, as images_held


def test_metrics_table_without_cases_is_unchanged(tmp_path):
    from unet.report.plot import metrics_table

    grouped = _evaluate(tmp_path, GROUPS, {"tumour": [1]}, out="grouped")
    plain = _evaluate(tmp_path, None, {"tumour": [1]}, out="plain")
    metrics_table(grouped, tmp_path / "g.tsv")
    metrics_table(plain, tmp_path / "p.tsv")
    assert "per_case" not in (tmp_path / "p.tsv").read_text()
    # Dice, Dice over positive cases, cases_held: no HD95 or BF1 without evaluate.voxel_spacing
    assert _cut(tmp_path / "g.tsv", 3) == (tmp_path / "p.tsv").read_bytes()


@pytest.mark.parametrize("name,column", [("table.rst", "per_case_dice_mean_positive"),
                                         ("experiments.rst",
                                          "per_case_foreground_dice_mean_positive")])
def test_captions_name_the_per_case_columns_only_with_groups(name, column):
    from docutils.core import publish_parts
    from jinja2 import Environment

    text = (REPORT / name).read_text()

    def render(group_by: str | None, source: str = text) -> str:
        # as Snakemake's report renders a caption
        snakemake = SimpleNamespace(config={"split": {"group_by": group_by}},
                                    wildcards=SimpleNamespace(experiment="e"))
        env = Environment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(source).render(snakemake=snakemake)

    assert column in render(GROUPS) and "split.group_by" in render(GROUPS)
    def html(source: str) -> str:
        return publish_parts(source, writer="html")["body"]

    body = html(render(GROUPS))
    assert "system-message" not in body and body.count("<p>") == 2  # a paragraph of its own
    # without groups the report shows the caption as before the per-case paragraph
    assert html(render(None)) == html(render(None, text[:text.index("{% if")]))


@pytest.mark.parametrize("name", ["table.rst", "per_case.rst"])
def test_captions_give_the_case_hd95_unit_only_with_a_spacing(name):
    from jinja2 import Environment

    def render(spacing: list | None) -> str:
        snakemake = SimpleNamespace(config={"split": {"group_by": GROUPS},
                                            "evaluate": {"voxel_spacing": spacing}},
                                    wildcards=SimpleNamespace(experiment="e"))
        env = Environment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string((REPORT / name).read_text()).render(snakemake=snakemake)

    measured = " ".join(render([5.0, 0.7, 0.7]).split())
    assert "HD95" in measured and "evaluate.voxel_spacing" in measured and "mm" in measured
    assert "1 px apart" not in measured
    if name == "table.rst":
        assert "per_case_hd95_mean" in measured and "5.0, 0.7, 0.7" in measured
        assert "per_case_hd95_mean" not in render(None)
    else:
        assert "not measured" in render(None)


@pytest.mark.parametrize("name", ["table.rst", "per_case.rst"])
def test_captions_say_voxels_for_a_spacing_of_ones(name):
    from jinja2 import Environment

    def render(spacing: list | str) -> str:
        snakemake = SimpleNamespace(config={"split": {"group_by": GROUPS},
                                            "evaluate": {"voxel_spacing": spacing}},
                                    wildcards=SimpleNamespace(experiment="e"))
        env = Environment(trim_blocks=True, lstrip_blocks=True)
        text = env.from_string((REPORT / name).read_text()).render(snakemake=snakemake)
        return " ".join(text.split())

    ones = render([1, 1, 1])  # files of no voxel size (Synapse): HD95 in voxels
    assert "in voxels" in ones and "mm for a scan" not in ones, ones
    table = render("data/spacing.csv")  # each case's row: its unit, not the path's letters
    assert "data/spacing.csv" in table and "d, a, t, a" not in table, table
