"""An output folder that `unet predict` runs share: its record (.unet-predict.jsonl) keeps
every run's lines, and a read-only folder with nothing left to predict is no error."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from unet.infer.resume import RECORD, Record

SETTINGS = {"tta": False, "overlap": 0.0, "amp": False, "amp_cpu": False, "roi": None}


def _files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        (folder / f"im{k}.png").write_bytes(b"image %d" % k)
    return sorted(folder.glob("*.png"))


def _write(record: Record, path: Path) -> None:
    """A mask written whole, then noted, as predict_files does."""
    (record.out_dir / f"{path.stem}.png").write_bytes(b"mask")
    record.done(path)


def test_runs_sharing_a_folder_keep_each_others_lines(tmp_path):
    """An array job's parts into one -o folder: each part's first mask rewrote the record, so
    the lines the other parts had written went to a file no longer there, and the next rerun
    predicted their masks again (all but the last part's)."""
    model, out = tmp_path / "m.pt", tmp_path / "out"
    model.write_bytes(b"weights")
    files = _files(tmp_path / "new", 4)
    one, two = Record(out, [model], SETTINGS), Record(out, [model], SETTINGS)
    assert one.todo(files[:2], [None, None]) == [0, 1]
    assert two.todo(files[2:], [None, None]) == [0, 1]
    out.mkdir()
    _write(one, files[0])
    _write(two, files[2])
    _write(one, files[1])
    _write(two, files[3])
    one.close()
    two.close()
    assert Record(out, [model], SETTINGS).todo(files, [None] * 4) == []


def test_a_line_cut_off_by_a_crash_does_not_swallow_the_next(tmp_path):
    """The record is added to after a crash cut its last line: the next line starts a line of
    its own, not the cut one's end (which would lose both)."""
    model, out = tmp_path / "m.pt", tmp_path / "out"
    model.write_bytes(b"weights")
    files = _files(tmp_path / "new", 3)
    first = Record(out, [model], SETTINGS)
    first.todo(files, [None] * 3)
    out.mkdir()
    _write(first, files[0])
    first.close()
    with open(out / RECORD, "ab") as f:
        f.write(b'{"mask": "im1.png", "ima')  # killed mid-line
    again = Record(out, [model], SETTINGS)
    assert again.todo(files, [None] * 3) == [1, 2]
    _write(again, files[1])
    again.close()
    assert Record(out, [model], SETTINGS).todo(files, [None] * 3) == [2]


def test_a_moved_model_keeps_the_masks_and_records_its_new_path(tmp_path):
    """The same weights under another path: the masks stay done, and the record names the new
    path (so the next run takes its digest from the record, not from hashing the file)."""
    model, out = tmp_path / "m.pt", tmp_path / "out"
    model.write_bytes(b"weights")
    files = _files(tmp_path / "new", 2)
    first = Record(out, [model], SETTINGS)
    first.todo(files, [None, None])
    out.mkdir()
    _write(first, files[0])
    first.close()
    moved = model.rename(tmp_path / "moved.pt")
    again = Record(out, [moved], SETTINGS)
    assert again.todo(files, [None, None]) == [1]
    _write(again, files[1])
    again.close()
    last = Record(out, [moved], SETTINGS)
    assert last.todo(files, [None, None]) == []
    assert (out / RECORD).read_text().count(str(moved)) == 1


def test_a_read_only_folder_with_every_mask_done_is_no_error(tmp_path, monkeypatch, capsys):
    """A finished folder made read-only (archived, or another user's) was refused by the
    write probe before the record was read, though nothing was left to write."""
    from tests.test_predict_resume import _images, _model, _predict
    from unet.infer import out_checks

    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    capsys.readouterr()

    def denied(path):  # what the probe meets in a read-only folder (root writes anyway)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(out_checks, "temp_beside", denied)
    assert _predict(model, images, out) == 0
    assert "(4 there already: skipped)" in capsys.readouterr().out
    (out / "im3.png").unlink()  # one to write: refused before any work, as before
    assert _predict(model, images, out) != 0
    assert "cannot write the masks into" in capsys.readouterr().err


def test_a_folder_below_a_file_is_named_before_the_record_is_read(tmp_path, capsys):
    from tests.test_predict_resume import _images, _model, _predict

    model, images = _model(tmp_path / "m.pt"), _images(tmp_path / "new")
    (tmp_path / "taken").write_text("")
    assert _predict(model, images, tmp_path / "taken" / "out") == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'taken'} is a file" in err and "Traceback" not in err, err


def test_another_models_run_into_the_folder_meanwhile_is_refused(tmp_path):
    """Two models' runs started into one new folder at once: neither found a record, and the
    second's first mask replaced the first's record, so the folder held both models' masks
    with nothing said. The later one now stops at its first mask, which it takes away."""
    import pytest

    out, files = tmp_path / "out", _files(tmp_path / "new", 2)
    (tmp_path / "a.pt").write_bytes(b"weights a")
    (tmp_path / "b.pt").write_bytes(b"weights b")
    first = Record(out, [tmp_path / "a.pt"], SETTINGS)
    second = Record(out, [tmp_path / "b.pt"], SETTINGS)
    first.todo(files, [None, None])
    second.todo(files, [None, None])
    out.mkdir()
    _write(first, files[0])
    with pytest.raises(FileExistsError, match="another model"):
        _write(second, files[1])
    first.close()
    second.close()
    assert sorted(p.name for p in out.glob("*.png")) == ["im0.png"]
    assert Record(out, [tmp_path / "a.pt"], SETTINGS).todo(files, [None, None]) == [1]


def test_overwrite_keeps_a_file_the_user_put_over_an_old_mask(tmp_path, capsys):
    """--overwrite removed every mask the other run's record named, though a user's own file
    (a hand-corrected mask, a ground truth copied in) had since taken one's name: lost."""
    from tests.test_predict_resume import _images, _model, _predict

    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    (out / "im3.png").write_bytes(b"the user's own corrected mask")
    (images / "im3.png").unlink()  # not predicted now: its old mask would just be removed
    _model(tmp_path / "m.pt", seed=4)  # retrained
    assert _predict(model, images, out, "--overwrite") == 0
    assert (out / "im3.png").read_bytes() == b"the user's own corrected mask"
    assert "im3.png" in capsys.readouterr().err


def test_a_model_replaced_while_the_run_starts_is_refused(tmp_path, monkeypatch, capsys):
    """The record hashes the model file before the model is loaded: a model.pt replaced in
    between (a training run finishing) made the masks with the new weights under the old
    weights' digest, and a rerun with the old model.pt then kept them as its own."""
    from tests.test_predict_resume import _images, _model, _predict
    from unet.infer import predict_folder

    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    old = model.read_bytes()
    real = predict_folder.load_ensemble

    def replaced_first(*args, **kw):
        _model(tmp_path / "m2.pt", seed=4).replace(model)  # as train_unet writes it: a rename
        return real(*args, **kw)

    monkeypatch.setattr(predict_folder, "load_ensemble", replaced_first)
    assert _predict(model, images, out) != 0
    assert "m.pt changed while this run loaded it" in capsys.readouterr().err
    assert not list(out.glob("*.png"))
    monkeypatch.setattr(predict_folder, "load_ensemble", real)
    model.write_bytes(old)
    assert _predict(model, images, out) == 0 and len(list(out.glob("*.png"))) == 4


def test_a_record_of_a_newer_unet_is_named_as_such_not_as_another_model(tmp_path, capsys):
    """A folder a newer `unet` predicted into (its record's version above this one's) was
    refused as masks of 'another model (..., of other weights than these)': the same model.pt,
    so the user looked for a model that was never there."""
    from tests.test_predict_resume import _images, _model, _predict

    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    assert _predict(model, images, out) == 0
    lines = (out / RECORD).read_text().splitlines()
    header = json.loads(lines[0])
    (out / RECORD).write_text("\n".join([json.dumps({**header, "version": 99}), *lines[1:]]))
    capsys.readouterr()
    assert _predict(model, images, out) != 0
    err = capsys.readouterr().err
    assert "another model" not in err
    assert "version 99" in err and "newer" in err and "--overwrite" in err


def test_a_same_size_model_replaced_on_a_2_s_clock_is_refused(tmp_path, monkeypatch, capsys):
    """On FAT or an SMB share a file's times step by 1 or 2 s: a model.pt replaced (renamed
    over, as train_unet writes it) within that step by one of the same size (same network) had
    the stat it was hashed with, and its masks went under the old weights' digest."""
    from tests.test_predict_resume import _images, _model, _predict
    from unet.infer import predict_folder, resume

    class FatOs:  # the os module as resume.py sees it on FAT: every time in one 2 s step
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def stat(path, *args, **kw):
            st = os.stat(path, *args, **kw)
            return SimpleNamespace(st_size=st.st_size, st_ino=st.st_ino, st_dev=st.st_dev,
                                   st_mtime_ns=0, st_ctime_ns=0)

    monkeypatch.setattr(resume, "os", FatOs())
    model, images, out = _model(tmp_path / "m.pt"), _images(tmp_path / "new"), tmp_path / "out"
    real = predict_folder.load_ensemble

    def replaced_first(*args, **kw):
        new = _model(tmp_path / "m2.pt", seed=4)
        assert new.stat().st_size == model.stat().st_size  # the same network's weights
        new.replace(model)
        return real(*args, **kw)

    monkeypatch.setattr(predict_folder, "load_ensemble", replaced_first)
    assert _predict(model, images, out) != 0
    assert "m.pt changed while this run loaded it" in capsys.readouterr().err
    assert not list(out.glob("*.png"))
