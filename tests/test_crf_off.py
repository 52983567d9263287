"""crf.enabled: false skips the CRF rules; the report and final/ carry on without them."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake
from tests.test_rerun import planned

pytestmark = pytest.mark.workflow
AFTER_CRF = {"finalize_masks", "evaluate_masks", "compare_experiments", "plot_results"}


def test_turning_the_crf_off_reruns_only_what_reads_it(tiny_run):
    assert planned(tiny_run, "crf: {enabled: false}") == AFTER_CRF
    assert planned(tiny_run, "experiments: {baseline: {crf: {enabled: false}}}") == AFTER_CRF


@pytest.fixture(scope="module")
def crf_off(tiny_run, tmp_path_factory) -> Path:
    """The tiny run, copied, then run again with the CRF off for its one experiment."""
    wd = tmp_path_factory.mktemp("crf_off") / "wf"
    shutil.copytree(tiny_run, wd, symlinks=True)
    shutil.rmtree(wd / "results/synthetic/baseline/crf")  # what an earlier CRF run left
    (wd / "off.yaml").write_text("experiments: {baseline: {crf: {enabled: false}}}\n")
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "off.yaml")
    return wd / "results/synthetic/baseline"


def test_no_crf_masks_and_no_crf_scores(crf_off):
    assert not (crf_off / "crf").exists()
    summary = json.loads((crf_off / "metrics/summary.json").read_text())
    assert set(summary["methods"]) == {"raw", "final"}
    with open(crf_off / "metrics/per_image.csv", newline="") as f:
        assert {r["method"] for r in csv.DictReader(f)} == {"raw", "final"}
    table = (crf_off.parent / "experiments.tsv").read_text()
    assert "\tcrf\t" not in table and "\traw\t" in table


def test_final_masks_say_why_the_crf_did_not_compete(crf_off):
    choice = json.loads((crf_off / "final/choice.json").read_text())
    assert choice["chosen"] == "raw"  # tiny's candidates are [crf] alone
    assert set(choice["val_foreground_dice"]) == {"raw"}
    assert "crf.enabled: false" in choice["reason"]
    assert len(list((crf_off / "final/masks").glob("*.png"))) == 3


def test_report_says_the_crf_is_off(crf_off):
    verdict = (crf_off / "report/crf_verdict.txt").read_text()
    # after the training sentence where the tiny model has not learnt a class (said first)
    assert re.match(r"(Training: .*\. )?The CRF is off \(crf\.enabled: false\)", verdict)
    assert "final/masks holds the raw masks" in verdict
    assert "crf.enabled: false" in (crf_off / "report/crf_tuning.tsv").read_text()
    assert (crf_off / "report/raw_vs_crf.png").stat().st_size > 0
    assert (crf_off / "report/overlays.png").stat().st_size > 0
