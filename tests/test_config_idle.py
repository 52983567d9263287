"""Keys that do nothing for the configured layout, said when the workflow is planned:
dataset.<source>.missing_part: absent beside one masks folder or class folders changed
nothing and said nothing, and the user took their missing masks for handled."""

from __future__ import annotations

import pytest

from tests.conftest import TINY, copy_workflow, snakemake
from unet.config.idle import idle_settings


def _dataset(**local) -> dict:
    return {"source": "local", "local": {"path": "/data", "missing_part": "absent", **local}}


@pytest.mark.parametrize(("local", "said"), [
    ({}, "one masks folder (dataset.local.masks 'masks')"),
    ({"masks": ["left"]}, "one masks folder"),
    ({"masks": ["left", "right"], "mask_folders": "classes"}, "mask_folders: classes"),
])
def test_missing_part_absent_where_it_does_nothing_is_named(local, said):
    idle = idle_settings(_dataset(**local))
    assert len(idle) == 1 and said in idle[0] and "dataset.local.missing_part" in idle[0], idle


@pytest.mark.parametrize("dataset", [
    _dataset(masks=["left", "right"]),  # united folders: it decides their missing parts
    _dataset(missing_part="refuse"),
    {"source": "synthetic", "synthetic": {}},
])
def test_missing_part_where_it_applies_is_not_named(dataset):
    assert idle_settings(dataset) == []


def test_planning_says_it_once(tmp_path):
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    wd = copy_workflow(tmp_path / "wf")
    (wd / "local.yaml").write_text(f"dataset: {{name: mine, source: local, local: {{path: "
                                   f"'{data}', missing_part: absent}}}}\n")
    out = snakemake(wd, "--configfile", TINY, "local.yaml", "-n", "--cores", "1",
                    "resources/mine/manifest.json", check=False)
    assert out.stderr.count("dataset.local.missing_part: absent does nothing") == 1, out.stderr
