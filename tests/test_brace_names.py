"""File and folder names with { or } (c{1}.png): Snakemake reads braces in input paths as
wildcards, with no escape, so the input functions give such files as links to them; the DAG
builds, the data set is written, and changing such a file still reruns it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TINY, copy_workflow, snakemake
from unet.common.fileio import read_json

pytestmark = pytest.mark.workflow


def _pair(root: Path, name: str, i: int) -> None:
    rng = np.random.default_rng(i)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(root / "images" / name)
    mask = np.zeros((24, 32), np.uint8)
    mask[4:12 + i % 5, 6:20] = 255
    Image.fromarray(mask).save(root / "masks" / name)


def test_braces_in_data_and_predict_names_build_the_dag(tmp_path):
    # WildcardError in rule download_dataset: "Wildcards in input files cannot be determined".
    data = tmp_path / "my {data}"
    for i in range(8):
        _pair(data, f"c{{{i}}}.png" if i < 2 else f"a{i}.png", i)
    wd = copy_workflow(tmp_path / "wf")
    (wd / "ids.txt").write_text("c{0}\n")
    (wd / "local.yaml").write_text(
        f"dataset: {{name: mine, source: local, local: {{path: '{data}'}}}}\n"
        "split: {test_ids: ids.txt}\n")
    snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
              "local.yaml", "--quiet")
    ids = [p["id"] for p in read_json(wd / "resources/mine/manifest.json")["pairs"]]
    assert "c{0}" in ids and "c{1}" in ids
    assert read_json(wd / "results/mine/split.json")["test"] == ["c{0}"]
    new = wd / "resources/predict/new"
    new.mkdir(parents=True)
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(new / "x{2}.png")
    out = snakemake(wd, "results/mine/baseline/predict/new", "--cores", "1", "--configfile",
                    TINY, "local.yaml", "-n")
    assert "predict_folder" in out.stdout
    time.sleep(1.1)  # a newer mtime than the manifest's
    _pair(data, "c{1}.png", 9)  # replaced in place: the data set is stale
    out = snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
                    "local.yaml", "-n")
    assert "download_dataset" in out.stdout
