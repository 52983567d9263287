"""evaluate.ground_truth's masks are evaluate_masks' input: editing one (an eroded mask drawn
again) reruns the evaluation, and only it, as editing the training masks reruns from the data
set. Until 2026-12-06 the folder was read in the job only, so an edit reran nothing."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake

pytestmark = pytest.mark.workflow


def _planned_by_time(wd: Path, folder: Path) -> set[str]:
    """Rules a dry run would execute for file times alone, with the ground truth at `folder`."""
    (wd / "override.yaml").write_text(f"evaluate: {{ground_truth: {{masks: '{folder}'}}}}\n")
    out = snakemake(wd, "--cores", "2", "--configfile", TINY, "override.yaml", "-n", "--quiet",
                    "rules", "--rerun-triggers", "mtime")
    return set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "all", "job"}


def test_an_edited_ground_truth_mask_reruns_the_evaluation(tiny_run, tmp_path):
    folder = tmp_path / "eroded"
    folder.mkdir()
    mask = folder / "img_000.png"
    mask.write_bytes(b"")  # a dry run reads no pixel
    past = time.time() - 10 * 365 * 86400
    os.utime(mask, (past, past))
    assert _planned_by_time(tiny_run, folder) == set()
    os.utime(mask)  # drawn again: newer than the evaluation
    planned = _planned_by_time(tiny_run, folder)
    assert "evaluate_masks" in planned and "train_unet" not in planned, planned
    assert not planned & {"download_dataset", "preprocess", "predict_masks", "refine_crf"}
