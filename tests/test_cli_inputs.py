"""The images `unet predict` is given as users give them: patterns the shell left as they were."""

from __future__ import annotations

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
