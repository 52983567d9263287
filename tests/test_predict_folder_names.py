"""A predict/<name> target whose folder name the workflow has no rule for."""

from __future__ import annotations

import pytest

from tests.conftest import copy_workflow, snakemake
from unet.config.targets import predict_target_error

pytestmark = pytest.mark.workflow


def test_a_predict_folder_with_a_space_is_named_with_the_fix(tmp_path):
    # resources/predict/new batch/ asked for as results/.../predict/new batch stopped with
    # "MissingRuleException: No rule to produce ...", naming neither the cause nor the fix.
    wd = copy_workflow(tmp_path / "wf")
    (wd / "resources/predict/new batch").mkdir(parents=True)
    proc = snakemake(wd, "results/synthetic/baseline/predict/new batch", "-n", "--cores", "1",
                     check=False)
    assert proc.returncode != 0
    assert "No rule to produce" not in proc.stderr, proc.stderr[-2000:]
    assert "rename resources/predict/new batch to resources/predict/new_batch" in proc.stderr


def test_only_refused_predict_folder_names_are_named():
    data = "results/cells"
    assert predict_target_error(["results/cells/baseline/predict/new-batch.1/",
                                 "results/cells/baseline/model.pt", "all"], data) is None
    message = predict_target_error(["./results/cells/lr/predict/neue Bilder ü"], data)
    assert "resources/predict/neue_Bilder" in message, message
