"""Checkpoints are plain data: `weights_only=True` loads them, and nothing else is loaded."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_train import _rows, _train, cache  # noqa: F401  (cache: the module's tiny data)
from unet.model import checkpoint
from unet.model.checkpoint import CheckpointError


class Payload:
    """Unpickling this runs `open(marker, "w")`: any code could stand in its place."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _malicious(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {}, "model_config": {}, "evil": Payload(marker)}, path)
    return path


def test_malicious_checkpoint_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    bad = _malicious(tmp_path / "model.pt", marker)
    with pytest.raises(CheckpointError, match=r"model\.pt is not a plain-data checkpoint") as err:
        checkpoint.load(bad)
    assert "execute code" in str(err.value) and "retrain" in str(err.value)
    with pytest.raises(CheckpointError, match=r"model\.pt"):
        checkpoint.load_model(bad)
    assert not marker.exists(), "loading ran code from the file"
    # The payload is live: an unsafe load does run it (so the test above means something).
    torch.load(bad, weights_only=False).pop("evil").close()
    assert marker.exists()


def test_malicious_last_checkpoint_stops_training(cache, tmp_path):  # noqa: F811
    marker = tmp_path / "pwned"
    _malicious(tmp_path / "ck" / "last.pt", marker)
    with pytest.raises(CheckpointError, match=r"last\.pt is not a plain-data checkpoint"):
        _train(cache, tmp_path)
    assert not marker.exists() and not (tmp_path / "model.pt").exists()


def test_save_refuses_what_a_safe_load_would_refuse(tmp_path):
    # numpy scalars are the usual slip (metrics computed with numpy): refused when written,
    # not found out when someone loads the file.
    where = r"checkpoint\['state'\]\['history'\]\[0\]\['dice'\] is a numpy.float64"
    with pytest.raises(CheckpointError, match=where):
        checkpoint.save(tmp_path / "last.pt", {"state": {"history": [{"dice": np.float64(1)}]}})
    assert not (tmp_path / "last.pt").exists()


def test_grad_scaler_state_is_plain(tmp_path):
    scaler = torch.amp.GradScaler("cpu", enabled=True)  # what fp16 training on CUDA saves
    checkpoint.save(tmp_path / "last.pt", {"scaler": scaler.state_dict()})
    assert torch.load(tmp_path / "last.pt", weights_only=True)["scaler"] == scaler.state_dict()


@pytest.mark.parametrize("optimizer", ["adamw", "sgd", "rmsprop"])
@pytest.mark.parametrize("schedule", ["cosine", "poly", "plateau", "constant"])
def test_every_checkpoint_of_training_loads_safely(cache, tmp_path, optimizer, schedule):  # noqa: F811
    _train(cache, tmp_path, optimizer=optimizer, schedule=schedule, patience=3, grad_clip=1.0)
    for path in (tmp_path / "model.pt", tmp_path / "ck" / "best.pt", tmp_path / "ck" / "last.pt"):
        ck = torch.load(path, weights_only=True)  # torch's own rule, not only ours
        assert ck["config_hash"] == checkpoint.load(path)["config_hash"]
    last = torch.load(tmp_path / "ck" / "last.pt", weights_only=True)
    assert last["optimizer"]["state"] and last["state"]["history"][-1]["epoch"] == 2



def _cut_checkpoint(path: Path) -> bytes:
    torch.save({"state_dict": {"w": torch.zeros(64)}}, path)
    data = path.read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize("content", ["empty", "text", "noise", "cut"])
def test_damaged_file_is_named_and_not_called_code(tmp_path, content):
    # An empty file raised EOFError, a text file KeyError, a cut one RuntimeError (tracebacks),
    # and random bytes were refused as code that would run.
    bad = tmp_path / "model.pt"
    bad.write_bytes({"empty": b"", "text": b"hello\n", "cut": _cut_checkpoint(bad),
                     "noise": np.random.default_rng(0).bytes(300)}[content])
    with pytest.raises(CheckpointError, match=r"model\.pt is not a readable torch file") as err:
        checkpoint.load(bad)
    assert "execute code" not in str(err.value)


@pytest.mark.parametrize(("content", "says"), [
    ({"inc.double_conv.0.weight": torch.zeros(4, 3, 3, 3)}, "a bare state dict"),
    (torch.zeros(3), "a Tensor"),
    ({"state_dict": {}, "optimizer": {}, "state": {}}, r"a training checkpoint.*model\.pt"),
])
def test_a_file_that_is_not_a_model_file_says_what_it_holds(tmp_path, content, says):
    # Another project's weights (milesial's state dict) or checkpoints/last.pt: KeyError before.
    path = tmp_path / "their.pth"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=rf"their\.pth is not a unet-pipeline model.*{says}"):
        checkpoint.load_model(path)


def test_renamed_classes_keep_the_checkpoint(cache, tmp_path, caplog):  # noqa: F811
    """masks.names only names the classes: renaming them retrained every epoch (on
    Cityscapes, hours), as the names were part of what a last.pt must match."""
    import json
    import shutil

    caplog.set_level(logging.INFO)
    data = tmp_path / "cache"
    shutil.copytree(cache, data)
    _train(data, tmp_path)
    before = _rows(tmp_path)
    meta = json.loads((data / "meta.json").read_text())
    meta["class_names"] = ["ground", "thing"]
    (data / "meta.json").write_text(json.dumps(meta))
    _train(data, tmp_path)
    assert f"resuming from {tmp_path / 'ck' / 'last.pt'} at epoch 2" in caplog.text
    assert _rows(tmp_path) == before
    assert checkpoint.load(tmp_path / "model.pt")["class_names"] == ["ground", "thing"]


class SystemPayload:
    """The classic malicious pickle: unpickling calls os.system (never here: weights_only)."""

    def __reduce__(self):
        import os

        return (os.system, ("touch /nonexistent/pwned",))


def test_an_os_system_payload_is_named_as_code_not_as_a_damaged_file(tmp_path):
    # torch 2.x words this refusal "Trying to load unsupported GLOBAL posix.system whose
    # module posix is blocked", which read as "not a readable torch file ... cut off".
    torch.save({"state_dict": {}, "evil": SystemPayload()}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=r"model\.pt is not a plain-data checkpoint") as err:
        checkpoint.load(tmp_path / "model.pt")
    assert "would execute code" in str(err.value) and "system" in str(err.value)
    assert "cut off" not in str(err.value)


@pytest.mark.parametrize(("content", "says"), [
    ({"pytorch-lightning_version": "2.4.0", "state_dict": {"model.w": torch.zeros(2)},
      "optimizer_states": [], "epoch": 3}, r"a PyTorch Lightning checkpoint \(epoch 3\)"),
    ({"model": {"w": torch.zeros(2)}, "optimizer": {}, "epoch": 3},
     r"another project's checkpoint \(keys epoch, model, optimizer\)"),
    ({"state_dict": {"w": torch.zeros(2)}, "epoch": 5},
     r"another project's checkpoint \(keys epoch, state_dict\)"),
])
def test_another_projects_checkpoint_is_named_as_such(tmp_path, content, says):
    # Any dict with an "optimizer" key was called "a training checkpoint (checkpoints/last.pt,
    # to resume from); use model.pt", though this pipeline never wrote it, and a Lightning
    # .ckpt "a dict without model_config, ...": neither said what the file is
    path = tmp_path / "their.ckpt"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=rf"their\.ckpt is not a unet-pipeline model.*{says}"
                       ) as err:
        checkpoint.load_model(path)
    assert "last.pt" not in str(err.value)


def test_a_file_damaged_inside_is_refused_not_loaded(tmp_path):
    # Bytes of a weight changed in place (a bad copy, a failing disk): torch read the file
    # without checking the zip's checksums, and the damaged weights predicted silently
    path = tmp_path / "model.pt"
    torch.save({"state_dict": {"w": torch.ones(4096)}}, path)
    data = bytearray(path.read_bytes())
    at = data.index(torch.ones(1).numpy().tobytes() * 64)  # inside the weight's data
    data[at:at + 16] = bytes(16)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.pt is damaged: .*checksum") as err:
        checkpoint.load(path)
    assert "copy it again" in str(err.value).lower()


def test_a_full_disk_while_saving_names_the_checkpoint(tmp_path):
    # torch.save reported it as "RuntimeError: [enforce fail at inline_container.cc:672] .
    # unexpected pos 124928 vs 124824", naming no file and no cause.
    import subprocess
    import sys

    from tests.conftest import REPO

    code = (
        "import resource, torch\n"
        "from unet.model import checkpoint\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, resource.RLIM_INFINITY))\n"
        f"checkpoint.save({str(tmp_path / 'last.pt')!r}, {{'w': torch.zeros(100_000)}})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert "DiskFullError" in proc.stderr, proc.stderr
    assert "last.pt: the file exceeds" in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())
