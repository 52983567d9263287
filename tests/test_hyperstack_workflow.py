"""A local folder of 2-channel ImageJ hyperstacks (nucleus and membrane as pages) runs the whole
workflow, CRF and report included, and `unet predict` takes new ones; it was refused at the
data step with advice to split the channels into files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.conftest import TINY, copy_workflow, snakemake
from unet.cli import main

pytestmark = pytest.mark.workflow


def _cell(path: Path, i: int) -> np.ndarray:
    """A 16-bit (2, 24, 32) hyperstack whose disc the second channel alone shows; its mask."""
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[:24, :32]
    disc = np.hypot(yy - 10 - i % 5, xx - 14 - i % 7) < 6
    pages = rng.integers(900, 1100, (2, 24, 32)).astype(np.uint16)
    pages[1][disc] = 3000
    tifffile.imwrite(path, pages, imagej=True, metadata={"axes": "CYX"})
    return disc


def test_a_folder_of_hyperstacks_runs_the_workflow_and_unet_predict(tmp_path):
    data = tmp_path / "data"
    for sub in ("images", "masks", "new"):
        (data / sub).mkdir(parents=True)
    for i in range(12):
        disc = _cell(data / "images" / f"c{i}.tif", i)
        Image.fromarray(disc.astype(np.uint8) * 255).save(data / "masks" / f"c{i}.png")
    _cell(data / "new" / "later.tif", 20)
    wd = copy_workflow(tmp_path / "wf")
    (wd / "local.yaml").write_text(
        f"dataset: {{name: cells, source: local, local: {{path: '{data}'}}}}\n")
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "local.yaml")
    run = wd / "results/cells/baseline"
    summary = json.loads((run / "metrics/summary.json").read_text())
    assert set(summary["methods"]) == {"raw", "crf", "final"}
    assert len(list((run / "crf/masks").glob("*.png"))) == summary["images"] == 3
    meta = json.loads((wd / "results/cells/cache/meta.json").read_text())
    assert meta["in_channels"] == 2 and meta["intensity_range"][1] == 3000
    model = run / "model.pt"
    assert torch.load(model, map_location="cpu", weights_only=False)["in_channels"] == 2
    out = tmp_path / "pred"
    assert main(["predict", str(model), str(data / "new"), "-o", str(out),
                 "--device", "cpu"]) == 0
    assert Image.open(out / "later.png").size == (32, 24)
