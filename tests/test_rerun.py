"""Rerun exactness: a changed setting or module reruns exactly the steps that use it."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake

pytestmark = pytest.mark.workflow
CHAIN = ["download_dataset", "split_dataset", "preprocess", "train_unet", "predict_masks",
         "tune_crf", "refine_crf", "finalize_masks", "evaluate_masks", "compare_experiments",
         "plot_results"]


def _from(rule: str) -> set[str]:
    return set(CHAIN[CHAIN.index(rule):])


def planned(wd: Path, override: str = "") -> set[str]:
    """Rules that a dry run would execute, with `override` (YAML) over the tiny config."""
    (wd / "override.yaml").write_text(override or "{}\n")
    out = snakemake(wd, "--cores", "2", "--configfile", TINY, "override.yaml", "-n", "--quiet",
                    "rules")
    return set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "all", "job"}


def test_nothing_to_do(tiny_run):
    assert planned(tiny_run) == set()


@pytest.mark.parametrize(("override", "first"), [
    ("dataset: {synthetic: {seed: 5}}", "download_dataset"),
    ("split: {seed: 9}", "split_dataset"),
    ("split: {order: hash}", "split_dataset"),
    ("masks: {max_values: 8}", None),  # only refuses lossy masks (test_inapplicable.py)
    # the values detection found, now listed (to name classes, say): a byte-identical cache
    ("masks: {values: [0, 255]}", None),
    ("masks: {values: [255, 0]}", "preprocess"),  # another class order: another cache
    ("preprocess: {width: 40}", "preprocess"),
    ("model: {base_width: 6}", "train_unet"),
    ("train: {lr: 0.001}", "train_unet"),
    ("train: {num_workers: 1}", None),  # how fast, not what: the weights are the same
    ("predict: {tta: true}", "predict_masks"),
    ("crf: {bilateral_sxy: 40.0}", "tune_crf"),  # bilateral_srgb: the grid's (test_inapplicable)
    ("crf: {tune: {max_images: 1}}", "tune_crf"),
    ("postprocess: {min_gain: 0.01}", "finalize_masks"),
    ("evaluate: {boundary_tolerance: 3}", "evaluate_masks"),
    # names only label the classes: the tables and the report, not the cache or the model
    ("masks: {names: [ground, shape]}", "evaluate_masks"),
    ("dataset: {local: {mask_suffix: _m}}", None),  # an unused source's settings: nothing
    ("report: {bands: null}", None),  # the default: reports made before the key stay fresh
    ("report: {bands: [1]}", "plot_results"),  # the overlays' bands: the report alone
])
def test_changed_setting_reruns_exactly(tiny_run, override, first):
    assert planned(tiny_run, override) == (_from(first) if first else set())


@pytest.mark.parametrize(("module", "first"), [
    ("dataset/synthetic", "download_dataset"),
    ("dataset/split", "split_dataset"),
    ("cache/preprocess", "preprocess"),
    ("common/labels", "preprocess"),
    ("model/unet", "train_unet"),
    ("train/losses", "train_unet"),
    ("infer/predict", "predict_masks"),
    ("crf/dense", "tune_crf"),
    ("crf/refine", "refine_crf"),
    ("postprocess/finalize", "finalize_masks"),
    ("evaluate/boundary", "evaluate_masks"),  # HD95: the evaluation and the report only
    ("report/figures", "plot_results"),
    ("common/logs", None),  # logging cannot change an output (unet/deps.py EXEMPT)
])
def test_edited_module_reruns_exactly(tiny_run, module, first):
    path = tiny_run / "unet" / f"{module}.py"
    assert path.is_file(), path
    text, before = path.read_bytes(), path.stat()
    # A real edit: Snakemake >= 9.18 compares checksums, so a bare touch reruns nothing.
    path.write_bytes(text + b"\n# edited\n")
    later = time.time() + 3600  # newer than every output, whatever the checkout's file times
    os.utime(path, (later, later))
    try:
        assert planned(tiny_run) == (_from(first) if first else set())
    finally:
        path.write_bytes(text)
        os.utime(path, (before.st_atime, before.st_mtime))


def test_a_moved_project_reruns_nothing(tiny_run, tmp_path):
    # Each rule's code inputs were absolute paths: a project copied or moved elsewhere (a new
    # home folder, a cluster's scratch) saw "Set of input files has changed" and retrained.
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(tiny_run, moved, symlinks=True)
    try:
        assert planned(moved) == set()
    finally:
        shutil.rmtree(moved)
