"""`unet` arguments checked before any work: outputs that would fail or replace a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.test_cli_folds import tiny_record
from unet.cli import main
from unet.infer.resume import RECORD  # the record beside the masks


@pytest.fixture
def model(tmp_path) -> Path:
    torch.save(tiny_record(), tmp_path / "model.pt")
    return tmp_path / "model.pt"


def _image(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "a.png")
    return folder


def test_rle_output_that_is_a_folder_is_refused_before_any_work(model, tmp_path, capsys):
    # --rle naming an existing folder: IsADirectoryError after the masks were written.
    (tmp_path / "table.csv").mkdir()
    argv = ["predict", str(model), str(_image(tmp_path / "in")), "-o", str(tmp_path / "out"),
            "--device", "cpu", "--rle", str(tmp_path / "table.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "table.csv is a folder" in err and "--rle" in err, err
    assert not (tmp_path / "out").exists()


def test_a_closed_pipe_ends_info_quietly(model):
    # `unet info MODEL | head -1` logged a BrokenPipeError traceback at CRITICAL.
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `head -1`
    proc = subprocess.run([sys.executable, "-m", "unet.cli", "info", str(model)], stdout=write,
                          stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141  # as a tool ended by SIGPIPE


def test_export_writes_only_onnx_files_and_never_over_a_torch_file(model, tmp_path, capsys):
    # `--onnx other/model.pt` replaced another trained model by the ONNX graph.
    other = tmp_path / "other.pt"
    other.write_bytes(model.read_bytes())
    for target in (other, tmp_path / "graph.bin"):
        assert main(["export", str(model), "--onnx", str(target)]) == 2
        assert "name a .onnx file" in capsys.readouterr().err
    disguised = tmp_path / "disguised.onnx"
    disguised.write_bytes(model.read_bytes())
    assert main(["export", str(model), "--onnx", str(disguised)]) == 2
    assert "is a torch file" in capsys.readouterr().err
    assert other.read_bytes() == disguised.read_bytes() == model.read_bytes()
    assert not (tmp_path / "graph.bin").exists()


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--overlap", "0.95", "at most 0.9"), ("--overlap", "-0.1", "at least 0"),
    ("--batch-size", "0", "at least 1"), ("--threads", "0", "at least 1"),
    ("--threads", "-1", "at least 1")])
def test_predict_numbers_outside_their_bounds_are_usage_errors(model, tmp_path, capsys, option,
                                                                value, words):
    # --overlap 0.95 (the schema's maximum is 0.9), --batch-size 0, --threads 0 were taken.
    argv = ["predict", str(model), str(_image(tmp_path / "in")), "-o", str(tmp_path / "o"),
            option, value]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert option in err and words in err, err
    assert not (tmp_path / "o").exists()


def test_stack_messages_name_the_path_and_say_it_once(tmp_path, capsys):
    red, nir = _image(tmp_path / "red"), _image(tmp_path / "nir")
    (tmp_path / "taken").write_text("")
    assert main(["stack", str(red), str(nir / "{id}.png"), "-o", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'taken'} is a file" in err and "folder" in err and "Errno" not in err
    assert main(["stack", str(red), str(nir / "a.png"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("unet stack") == 1 and "has no {id}" in err, err


def test_the_last_progress_line_is_logged_once(caplog, monkeypatch):
    import io
    import logging
    import sys

    from unet.common.logs import progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: lines into the log
    with caplog.at_level(logging.INFO, logger="progress"):
        list(progress(range(3), "predict"))
    done = [r.getMessage() for r in caplog.records if "3/3" in r.getMessage()]
    assert len(done) == 1, done


def test_rle_columns_that_do_not_fit_the_model_are_refused_before_any_work(model, tmp_path,
                                                                          capsys):
    argv = ["predict", str(model), str(_image(tmp_path / "in")), "-o", str(tmp_path / "out"),
            "--device", "cpu", "--rle", str(tmp_path / "s.csv"), "--rle-columns", "a,b,c"]
    assert main(argv) == 2
    assert "--rle-columns" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    argv[-1] = "id,rle_mask"
    assert main([*argv, "--rle-id", "stem"]) == 0
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "id,rle_mask" and lines[1].startswith("a,")


def test_images_of_one_stem_in_two_folders_are_named_with_the_fix(model, tmp_path, capsys):
    # a/x.png and b/x.png (or x.png beside x.jpg) both make x.png: the refusal said only
    # "several images are named ['x']", neither which files nor what to do.
    for folder, ext in (("a", "png"), ("b", "png"), ("a", "jpg")):
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.new("RGB", (20, 10)).save(tmp_path / folder / f"x.{ext}")
    code = main(["predict", str(model), str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "out").exists()
    for name in ("a/x.jpg", "a/x.png", "b/x.png"):
        assert str(tmp_path / name) in err
    assert "x.png" in err and "rename" in err.lower() and "separate" in err


def test_images_in_subfolders_beside_the_predicted_ones_are_warned_of(tmp_path, caplog):
    # A folder of new images with more in a subfolder (one per patient, per day) was
    # predicted without them and without a word: the masks looked like the whole set.
    from unet.infer.predict_folder import list_images

    for name in ("a.png", "day2/b.png", "day2/c.png", "fov/a.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    with caplog.at_level("WARNING"):
        assert list_images(tmp_path, roi="fov/{id}.png") == [tmp_path / "a.png"]
    assert "day2/ holds 2" in caplog.text and "fov" not in caplog.text  # fov/: the regions


@pytest.mark.parametrize("exists", [True, False])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(
    model, tmp_path, capsys, monkeypatch, exists
):
    """-o naming a folder the user may not write (or make): PermissionError's traceback from
    the first mask's write, after the model was loaded and the first images decoded."""
    import os

    images, out = _image(tmp_path / "new"), tmp_path / "locked"
    out.mkdir()
    real = os.open

    def locked(path, *args, **kwargs):  # as a folder of mode 0555 is to anyone but root
        if Path(path).parent == out or Path(path).parent.parent == out:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", locked)
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: locked(Path(path) / "x"))
    target = out if exists else out / "masks"
    code = main(["predict", str(model), str(images), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"cannot write the masks into {target}" in err and "Permission denied" in err
    assert list(out.iterdir()) == []


def test_a_failed_write_mid_run_is_one_line_not_a_traceback(model, tmp_path, capsys,
                                                            monkeypatch):
    from unet.common import labels

    def fail(self, path, values):
        raise OSError(5, "Input/output error", str(path))

    monkeypatch.setattr(labels.MaskMapping, "write_values", fail)
    code = main(["predict", str(model), str(_image(tmp_path / "new")), "-o",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.strip().splitlines()[-1].startswith("unet predict: ")
    assert "Input/output error" in err and "a.png" in err


def test_an_image_named_twice_is_predicted_once(model, tmp_path, capsys):
    """A folder and a file in it (`unet predict m.pt new/ new/a.png`, overlapping shell globs):
    refused as 'images of one name would overwrite each other's mask ... rename one', though
    both are the same file."""
    images = _image(tmp_path / "new")
    code = main(["predict", str(model), str(images), str(images / "a.png"),
                 str(tmp_path / "new" / ".." / "new" / "a.png"), "-o", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name != RECORD] == ["a.png"]
    assert "1 mask written to" in capsys.readouterr().out  # one, not "1 masks"


def test_ctrl_c_ends_with_one_line_and_status_130(model, tmp_path, capsys, monkeypatch):
    """Ctrl-C printed a KeyboardInterrupt traceback from deep inside torch or PIL."""
    from unet.infer import batches

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batches, "_forward", interrupted)
    code = main(["predict", str(model), str(_image(tmp_path / "new")), "-o",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and err[-1].startswith("unet predict: interrupted"), err
    assert list((tmp_path / "out").glob("*")) == []


def test_help_says_what_export_and_rle_take(capsys):
    # export's help said "an experiment's folder holding one" (model.pt) after folds exported
    # as an ensemble; --rle's said ClassId comes "for more than two classes", where it comes for
    # more than one scored class (two classes with masks.background: false take it too).
    from unet.cli import parser

    sub = next(a for a in parser()._actions if a.choices and "export" in a.choices).choices
    export_help = sub["export"].format_help()
    assert "folds" in export_help and "holding one" not in export_help
    rle_help = " ".join(sub["predict"].format_help().split())
    assert "more than one scored class" in rle_help and "more than two classes" not in rle_help


def test_a_link_to_an_image_under_another_name_gets_its_own_mask(model, tmp_path, capsys):
    """A folder holding a.png and b.png -> a.png: images were told apart by the file they
    resolve to, so one of the two names got no mask (the other's stem won)."""
    images = _image(tmp_path / "new")
    (images / "b.png").symlink_to("a.png")
    code = main(["predict", str(model), str(images), "-o", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != RECORD) == [
        "a.png", "b.png"]


def test_a_tilde_the_shell_left_is_the_home_folder(model, tmp_path, capsys, monkeypatch):
    """`--out=~/masks` (bash expands ~ only at a word's start) wrote the masks into a folder
    named '~' in the working directory."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    _image(tmp_path / "home" / "new")
    code = main(["predict", str(model), "~/new",
                 "--out=~/masks", "--rle=~/sub.csv"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "home" / "masks" / "a.png").is_file() and not (tmp_path / "~").exists()
    assert (tmp_path / "home" / "sub.csv").is_file()


def test_masks_written_inside_the_images_folder_are_not_called_unpredicted(model, tmp_path,
                                                                           capsys):
    """`unet predict m.pt new -o new/masks` run again warned 'masks/ holds 1: not predicted
    (move them up, or predict each subfolder)' of its own masks."""
    images = _image(tmp_path / "new")
    for _ in range(2):
        assert main(["predict", str(model), str(images), "-o", str(images / "masks")]) == 0
    assert "not predicted" not in capsys.readouterr().err
    (images / "sub").mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(images / "sub" / "b.png")
    assert main(["predict", str(model), str(images), "-o", str(images / "masks")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "not predicted" in line]
    assert len(warned) == 1 and "sub/ holds 1" in warned[0] and "masks/" not in warned[0]


def test_an_output_link_to_a_missing_folder_is_named(model, tmp_path, capsys):
    # -o naming a link to a folder not there (an unmounted drive): '[Errno 17] File exists'
    (tmp_path / "out").symlink_to(tmp_path / "scratch" / "masks")
    code = main(["predict", str(model), str(_image(tmp_path / "new")), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "scratch/masks" in err and "File exists" not in err, err


def test_ctrl_c_while_the_command_line_is_read_ends_with_one_line(tmp_path, capsys, monkeypatch):
    """Reading predict's --device imports torch (1.5 s): a Ctrl-C in it printed 50-70 lines of
    KeyboardInterrupt traceback from inside torch's import, in place of the one line."""
    from unet.common import device

    class Interrupted:
        def match(self, _value):
            raise KeyboardInterrupt

    monkeypatch.setattr(device, "DEVICE_PATTERN", Interrupted())
    try:
        code = main(["predict", "m.pt", str(tmp_path), "-o", str(tmp_path / "out")])
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C while the command line was read ended in a traceback")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and err == ["unet: interrupted; nothing was written"], err
