"""model.arch smp end to end: the tiny pipeline with a resnet18 encoder learns, its model file
is plain data that rebuilds the network with its normalisation, `unet info` names it, and a
second run has nothing to do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import REPO, TINY, copy_workflow, snakemake

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")

from unet.cli import main  # noqa: E402
from unet.model import checkpoint  # noqa: E402
from unet.model.pretrained import IMAGENET  # noqa: E402

pytestmark = pytest.mark.workflow

SMP = "tests/configs/tiny_smp.yaml"  # resnet18, encoder_weights null: nothing to download
EXP = "results/synthetic/baseline"
# Foreground (class 1) Dice of the raw masks, pixels summed over the 12 test images. Trivial
# answers score at most 0.39 there: all foreground 0.39 (24 % of the pixels are foreground),
# a coin flip per pixel about 0.33, all background 0; the plain tiny UNet of tiny.yaml
# predicts all foreground (0.39). Measured on 2 cores: 0.64 raw, 0.67 after the CRF, and
# 0.64-0.72 over training seeds 0-5.
DICE_FLOOR = 0.5


def _run(wd: Path, *args: str):
    # The network on one thread: the same weights on any machine (the thread count changes
    # them), and no OpenMP threads spinning at barriers on a busy 2-core box (which made one
    # epoch take 35 s instead of 0.4 s, and predicting 12 tiny images 9 s).
    return snakemake(
        wd,
        "--cores",
        "2",
        "--resources",
        "gpu=1",
        "--configfile",
        TINY,
        SMP,
        "--set-threads",
        "train_unet=1",
        "predict_masks=1",
        *args,
    )


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    wd = copy_workflow(tmp_path_factory.mktemp("wf_smp"))
    _run(wd)
    return wd


def test_smp_pipeline_beats_trivial_answers(done):
    summary = json.loads((done / EXP / "metrics/summary.json").read_text())
    assert summary["images"] == 12 and set(summary["methods"]) == {"raw", "crf", "final"}
    raw = summary["methods"]["raw"]["classes"]["1"]["global"]["dice"]
    assert raw > DICE_FLOOR, f"foreground Dice {raw:.3f}: no better than a trivial answer"
    # The floor's premise: all foreground scores below it on these very test masks.
    test = set(json.loads((done / "results/synthetic/split.json").read_text())["test"])
    pairs = json.loads((done / "resources/synthetic/manifest.json").read_text())["pairs"]
    fg = [np.asarray(Image.open(done / q["mask"])) > 0 for q in pairs if q["id"] in test]
    p = np.mean(np.concatenate([m.ravel() for m in fg]))  # foreground fraction
    assert 2 * p / (1 + p) < DICE_FLOOR
    masks = sorted((done / EXP / "final/masks").glob("*.png"))
    assert len(masks) == 12 and Image.open(masks[0]).size == (72, 48)  # the original size


def test_smp_model_file_is_plain_data_and_rebuilds(done):
    path = done / EXP / "model.pt"
    ckpt = torch.load(path, map_location="cpu", weights_only=True)  # no code runs to load it
    cfg = ckpt["model_config"]
    assert (cfg["arch"], cfg["encoder"], cfg["encoder_weights"]) == ("smp", "resnet18", None)
    mean, std = (ckpt["state_dict"][k].flatten().tolist() for k in ("mean", "std"))
    assert mean == pytest.approx(IMAGENET[0]) and std == pytest.approx(IMAGENET[1])
    # Rebuilt from the file alone: its normalisation, and the logits of the weights it holds.
    net, _ = checkpoint.load_model(path)
    assert net.mean.flatten().tolist() == pytest.approx(mean)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert net(x).shape == (1, 2, 32, 48) and torch.isfinite(net(x)).all()


def test_unet_info_names_the_encoder(done, capsys):
    assert main(["info", str(done / EXP / "model.pt")]) == 0
    out = capsys.readouterr().out
    assert "smp Unet, encoder resnet18 (weights none, randomly initialised), depth 3" in out
    assert "mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225" in out
    assert "UNet depth" not in out and "base width" not in out  # arch unet's settings


def test_second_smp_run_has_nothing_to_do(done):
    out = _run(done, "-n")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_network_steps_run_where_snakemake_runs(tmp_path):
    """On a cluster, compute nodes often have no network: the download and the pretrained
    weights are local rules (run on the submitting machine), and training waits for the
    weights; an experiment without pretrained weights fetches nothing."""
    wd = copy_workflow(tmp_path)
    (wd / "weights.yaml").write_text(
        "model: {encoder_weights: imagenet}\n"
        "experiments: {baseline: {}, scratch: {model: {arch: unet}}}\n"
    )
    out = snakemake(wd, "--configfile", TINY, SMP, "weights.yaml", "-n").stdout
    assert "output: resources/encoders/resnet18/imagenet.json" in out
    # Declared local (tests/test_slurm.py checks on a cluster that such a rule is not submitted)
    local = re.search(r"^localrules:\n((?:    \w+,\n)+)", (REPO / "Snakefile").read_text(), re.M)
    assert local and set(re.findall(r"\w+", local.group(1))) == {
        "download_dataset", "fetch_encoder_weights"}
    train = re.findall(r"^rule train_unet:\n    input: (.*)$", out, re.M)  # their inputs
    assert len(train) == 2
    assert sum("resources/encoders/resnet18/imagenet.json" in b for b in train) == 1


def test_a_folder_encoders_weights_are_an_input_of_training(tmp_path):
    """tu-local-dir:<folder> fetches nothing, so training had no input for the weights it
    reads there: replacing the folder's model.safetensors (better weights, a repaired copy)
    retrained nothing, and the old model stayed, made from weights no longer there."""
    wd = copy_workflow(tmp_path / "wf")
    folder = tmp_path / "encoder"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_text("{}")
    (wd / "weights.yaml").write_text(
        f"model: {{encoder: 'tu-local-dir:{folder}', encoder_weights: imagenet}}\n")
    out = snakemake(wd, "--configfile", TINY, SMP, "weights.yaml", "-n").stdout
    train = re.findall(r"^rule train_unet:\n    input: (.*)$", out, re.M)
    assert len(train) == 1 and "resources/encoders" not in train[0]
    assert f"{folder}/model.safetensors" in train[0] and f"{folder}/config.json" in train[0]
