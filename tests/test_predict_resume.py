"""Rerunning `unet predict` into its own folder: only missing or stale masks are predicted, and
masks of another model or settings are refused (or, with --overwrite, replaced all)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet.cli import main
from unet.infer import batches
from unet.infer.resume import RECORD
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig


def _model(path: Path, seed: int = 3) -> Path:
    torch.manual_seed(seed)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    meta = {"class_values": [0, 255], "size": [16, 12], "in_channels": 3, "num_classes": 2,
            "mask_bits": 8, "mode": "resize"}
    net = build_model(cfg, pretrained=False)
    checkpoint.save(path, checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1,
                                                  None, [0.5, 0.5], ""))
    return path


def _images(folder: Path, count: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(count):
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(folder / f"im{k}.png")
    return folder


def _stamps(out: Path) -> dict[str, tuple[int, int]]:
    """Each mask's inode and mtime: a mask written again is a new file (an atomic rename)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.png")}


@pytest.fixture
def forwards(monkeypatch) -> list[int]:
    """The number of images each forward pass took."""
    seen: list[int] = []
    real = batches._forward

    def counted(models, images, flips, dtype):
        seen.append(len(images))
        return real(models, images, flips, dtype)

    monkeypatch.setattr(batches, "_forward", counted)
    return seen


def _predict(model, folder, out, *more) -> int:
    return main(["predict", str(model), str(folder), "-o", str(out), "--device", "cpu",
                 "--threads", "1", *more])


def test_a_rerun_predicts_nothing_already_done(tmp_path, forwards, capsys):
    """A rerun predicted every image again (a folder of 10,000 after one bad image fixed)."""
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    before, passes = _stamps(out), sum(forwards)
    assert len(before) == 4 and passes == 4
    capsys.readouterr()
    assert _predict(model, images, out) == 0
    assert sum(forwards) == passes and _stamps(out) == before
    out_, err = capsys.readouterr()
    assert "0 masks written" in out_ and "(4 there already: skipped)" in out_
    assert "4 of 4 images' masks are in" in err and "skipped" in err


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, forwards, monkeypatch, capsys):
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    real, calls = batches._forward, []

    def stop_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the first batch's masks are written
        return real(*args)

    monkeypatch.setattr(batches, "_forward", stop_second)
    assert _predict(model, images, out, "--batch-size", "2") == 130
    first = _stamps(out)
    assert sorted(first) == ["im0.png", "im1.png"]
    monkeypatch.setattr(batches, "_forward", real)
    done = []
    monkeypatch.setattr(batches, "_forward", lambda m, x, *a: done.append(len(x)) or real(m, x, *a))
    assert _predict(model, images, out, "--batch-size", "2") == 0
    assert done == [2] and sorted(_stamps(out)) == [f"im{k}.png" for k in range(4)]
    assert {k: _stamps(out)[k] for k in first} == first  # the first two kept, not redone


def test_an_image_changed_since_its_mask_is_predicted_again(tmp_path, forwards):
    """Even a copy that keeps an older date (cp -p): its mtime is no newer than the mask's."""
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    before, old = _stamps(out), os.stat(images / "im2.png")
    Image.new("RGB", (30, 20), "white").save(images / "im2.png")
    os.utime(images / "im2.png", ns=(old.st_atime_ns, old.st_mtime_ns))
    forwards.clear()
    assert _predict(model, images, out) == 0
    after = _stamps(out)
    assert sum(forwards) == 1 and after["im2.png"] != before["im2.png"]
    assert {k: v for k, v in after.items() if k != "im2.png"} == {
        k: v for k, v in before.items() if k != "im2.png"}
    (out / "im1.png").unlink()  # a mask removed: predicted again
    forwards.clear()
    assert _predict(model, images, out) == 0
    assert sum(forwards) == 1 and (out / "im1.png").is_file()


def test_another_model_or_setting_is_refused_unless_overwrite(tmp_path, capsys):
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    (tmp_path / "more").mkdir()
    os.link(images / "im0.png", tmp_path / "more" / "other.png")
    assert _predict(model, tmp_path / "more", out) == 0  # same model: beside the others
    before = {p.name: p.read_bytes() for p in out.glob("*.png")}
    capsys.readouterr()
    assert _predict(model, images, out, "--tta") == 2
    err = capsys.readouterr().err
    assert "tta False then, True now" in err and "--overwrite" in err and RECORD in err, err
    _model(tmp_path / "m.pt", seed=4)  # retrained: other weights under the same name
    assert _predict(model, images, out) == 2
    assert "another model" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == before  # nothing lost
    assert _predict(model, images, out, "--overwrite") == 0
    # the old model's mask of an image not predicted now is gone: one model's masks only
    assert sorted(p.name for p in out.glob("*.png")) == [f"im{k}.png" for k in range(4)]
    assert _predict(model, images, out) == 0 and "0 masks written" in capsys.readouterr().out


def test_all_done_loads_no_model_and_reads_no_image(tmp_path, monkeypatch, capsys):
    """The skip costs a stat a file: a few hundred done images rerun in milliseconds."""
    from unet.infer import predict_folder

    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0

    def no(*args, **kwargs):
        raise AssertionError("not needed: every mask is done")

    monkeypatch.setattr(predict_folder, "load_ensemble", no)
    monkeypatch.setattr(predict_folder, "check_headers", no)
    assert _predict(model, images, out) == 0
