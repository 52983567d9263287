"""`unet predict`'s record at its edges: a record that cannot be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_predict_resume import _images, _model, _predict
from unet.infer import resume
from unet.infer.resume import RECORD


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
