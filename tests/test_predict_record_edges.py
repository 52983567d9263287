"""`unet predict`'s record at its edges: a model replaced between --rle reading its classes and
the record hashing it, and a record that cannot be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.test_predict_resume import _images, _model, _predict
from unet.infer import resume
from unet.infer.resume import RECORD
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig


def _model_of(path: Path, values: list[int]) -> Path:
    """A tiny model whose masks are written in `values` (one per class)."""
    torch.manual_seed(5)
    cfg = UNetConfig(in_channels=3, num_classes=len(values), depth=2, base_width=4)
    meta = {"class_values": values, "size": [16, 12], "in_channels": 3,
            "num_classes": len(values), "mask_bits": 8, "mode": "resize"}
    net = build_model(cfg, pretrained=False)
    checkpoint.save(path, checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1,
                                                  None, [1 / len(values)] * len(values), ""))
    return path


def test_a_model_replaced_after_rle_read_its_classes_writes_no_csv(tmp_path, monkeypatch,
                                                                     capsys):
    """--rle read the classes of the model.pt there first, and the record hashed (and the run
    loaded) the file there a moment later: a model.pt renamed over in between (a training run
    finishing) made the masks in its values, read through the old model's classes."""
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    csv = tmp_path / "sub.csv"
    real, reads = checkpoint.load_model_file, []

    def then_replaced(path, *args, **kw):
        ckpt = real(path, *args, **kw)
        if not reads:  # --rle's read of the classes; then a training run renames its file over
            _model_of(tmp_path / "m2.pt", [0, 1, 2]).replace(model)
        reads.append(path)
        return ckpt

    monkeypatch.setattr(checkpoint, "load_model_file", then_replaced)
    assert _predict(model, images, out, "--rle", str(csv)) != 0
    err = capsys.readouterr().err
    assert "m.pt changed" in err and "--rle" in err and "Traceback" not in err
    assert not csv.exists() and not list(out.glob("*.png"))
    monkeypatch.setattr(checkpoint, "load_model_file", real)
    assert _predict(model, images, out, "--rle", str(csv)) == 0 and csv.exists()


@pytest.mark.parametrize("kind", ["folder", "unreadable"])
def test_a_record_that_cannot_be_read_is_named_with_the_fix(tmp_path, monkeypatch, capsys, kind):
    """A .unet-predict.jsonl that is a folder, or that this user may not read, ended the run in
    a traceback (IsADirectoryError, PermissionError) from the record's read."""
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    out.mkdir()
    if kind == "folder":
        (out / RECORD).mkdir()
    else:  # tests run as root, who reads anything: the denial is faked
        (out / RECORD).write_text("{}\n")
        real = Path.read_bytes

        def denied(self):
            if self.name == RECORD:
                raise PermissionError(13, os.strerror(13), str(self))
            return real(self)

        monkeypatch.setattr(resume.Path, "read_bytes", denied)
    assert _predict(model, images, out) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(out / RECORD) in err
    assert "(-o)" in err and ("remove it" if kind == "folder" else "chmod a+r") in err
    assert not list(out.glob("*.png"))


def test_a_record_that_cannot_be_added_to_is_refused_before_any_mask(tmp_path, monkeypatch,
                                                                       capsys):
    """A record this user may read but not write (another user's run into a shared folder):
    the first mask was written, and then adding its line ended the run in a bare
    'Permission denied', the model loaded and the first batch predicted for nothing."""
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    later = [images / f"im{k}.png" for k in (2, 3)]
    for path in later:
        path.rename(tmp_path / path.name)
    assert _predict(model, images, out) == 0
    for path in later:  # two more images: their lines go after the first run's
        (tmp_path / path.name).rename(path)
    real = os.open

    def denied(path, flags, *args, **kw):  # tests run as root, who writes anything: faked
        if Path(path).name == RECORD and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, os.strerror(13), str(path))
        return real(path, flags, *args, **kw)

    monkeypatch.setattr(resume.os, "open", denied)
    capsys.readouterr()
    assert _predict(model, images, out) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(out / RECORD) in err
    assert "chmod u+w" in err and "(-o)" in err
    assert sorted(p.name for p in out.glob("*.png")) == ["im0.png", "im1.png"]
