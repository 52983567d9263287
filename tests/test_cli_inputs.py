"""The images `unet predict` is given as users give them: patterns the shell left as they were."""

from __future__ import annotations

import pytest

from tests.test_cli import _new_images
from unet.cli import main
from unet.infer.resume import RECORD


def test_a_pattern_the_shell_left_is_expanded(cli_model, tmp_path, capsys):
    # Quoted ('new/*.png'), from a script or a shell that passes a pattern on: it was refused
    # as "new/*.png: no such image file or folder" beside the very images it names.
    folder = _new_images(tmp_path / "new")
    out = tmp_path / "out"
    assert main(["predict", str(cli_model), str(folder / "r*.png"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name != RECORD) == ["rgb.png", "rgba.png"]
    assert main(["predict", str(cli_model), str(folder / "*.jpg"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / '*.jpg'}: no file matches this pattern" in err, err


def test_a_file_name_with_a_leading_dash_gets_a_hint(tmp_path, monkeypatch, capsys):
    # `unet predict m.pt -1.PNG -o out` said only "the following arguments are required:
    # inputs", beside the very image it was given; argparse reads -1.PNG as an option.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-1.PNG").write_bytes(b"")
    with pytest.raises(SystemExit) as done:
        main(["predict", "m.pt", "-1.PNG", "-o", "out"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "-1.PNG is read as an option" in err and "-- -1.PNG" in err and "./-1.PNG" in err, err
    with pytest.raises(SystemExit):  # an output file not made yet: a name with an extension
        main(["export", "m.pt", "--onnx", "-model.onnx"])
    assert "-model.onnx is read as an option" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a negative number is a value, not a file: no hint
        main(["predict", "m.pt", "--overlap", "-0.5"])
    assert "read as an option" not in capsys.readouterr().err
