"""The `unet` command's other outputs (the --rle CSV, the ONNX file): a place they cannot be
written is refused before any work, naming the file the user gave, not a scratch file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import _new_images
from unet.cli import main


@pytest.fixture
def model(cli_model) -> Path:
    return cli_model


def test_an_rle_csv_that_cannot_be_written_is_refused_before_any_mask(model, tmp_path, capsys):
    # A --rle path that could not be written failed only after every mask was predicted and
    # written, naming its scratch file: "[Errno 20] Not a directory: '.../.sub.csv.1f2e.part'"
    folder = _new_images(tmp_path / "new")
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder was meant\n")
    csv = blocker / "sub.csv"
    out = tmp_path / "masks"
    assert main(["predict", str(model), str(folder), "-o", str(out), "--rle", str(csv)]) == 2
    err = capsys.readouterr().err
    assert f"--rle {csv}" in err and ".part" not in err, err
    assert not out.exists()  # refused before any mask


def test_an_onnx_file_that_cannot_be_written_is_refused_naming_it(model, tmp_path, capsys):
    # `unet export MODEL --onnx results/m.onnx` where results is a file (or a folder without
    # write permission) said "[Errno 20] Not a directory: '.../results/.m.onnx.1f2e.part'",
    # a scratch name the user never gave, and exited 1 (a failure mid-run) for bad input
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder was meant\n")
    onnx = blocker / "m.onnx"
    assert main(["export", str(model), "--onnx", str(onnx)]) == 2
    err = capsys.readouterr().err
    assert f"--onnx {onnx}" in err and ".part" not in err, err


@pytest.mark.parametrize("name", ["exports/", "m.onnx/"])
def test_an_onnx_name_ending_in_a_slash_is_refused_before_the_export(model, tmp_path, capsys,
                                                                     name):
    # `unet export MODEL --onnx exports/` (a folder not made yet, as `-o masks/` is one) said
    # "name a .onnx file to write, e.g. exports.onnx"; `--onnx m.onnx/` traced the model, then
    # ended in "[Errno 20] Not a directory: '.m.onnx.1f2e.part' -> 'm.onnx/'", exit 1 (a bug)
    given = f"{tmp_path}/{name}"
    assert main(["export", str(model), "--onnx", given]) == 2
    err = capsys.readouterr().err
    assert f"--onnx {given}" in err and "Errno" not in err and ".part" not in err, err
    assert f"{tmp_path}/{name}model.onnx" in err if name == "exports/" else "m.onnx" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no folder

def test_unet_export_without_the_onnx_extra_says_what_to_install(model, tmp_path, capsys,
                                                                 monkeypatch):
    # The base install has no onnx or onnxscript (they are the [onnx] extra): `unet export`
    # loaded the model, then ended in torch's "ModuleNotFoundError: No module named
    # 'onnxscript'" traceback, exit 1, as for a bug (an smp model without smp: exit 2)
    import sys

    monkeypatch.setitem(sys.modules, "onnxscript", None)  # find_spec: None, import fails
    monkeypatch.setitem(sys.modules, "onnx", None)
    onnx = tmp_path / "m.onnx"
    assert main(["export", str(model), "--onnx", str(onnx)]) == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[onnx]'" in err and "onnxscript" in err, err
    assert not onnx.exists()


def _unstack_or_stack_args(command: str, tmp_path: Path, out: Path) -> list[str]:
    import numpy as np
    from PIL import Image

    tmp_path.mkdir()
    pages = [Image.fromarray(np.full((6, 8), k, np.uint8)) for k in range(3)]
    if command == "unstack":
        pages[0].save(tmp_path / "vol.tif", save_all=True, append_images=pages[1:])
        return ["unstack", str(tmp_path / "vol.tif"), str(out)]
    for band in ("red", "nir"):
        (tmp_path / band).mkdir()
        pages[0].save(tmp_path / band / "a.tif")
    return ["stack", str(tmp_path / "red"), str(tmp_path / "nir/{id}.tif"), "-o", str(out)]


@pytest.mark.parametrize("command", ["unstack", "stack"])
def test_unstack_and_stack_into_a_folder_below_a_file_are_refused_naming_it(tmp_path, capsys,
                                                                            command):
    # `unet unstack vol.tif results/pages` where results is a file said "[Errno 20] Not a
    # directory: 'results/pages'" and exited 1 (a failure mid-run) for bad input; with the
    # file itself as the folder, "[Errno 17] File exists: 'results'"
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder was meant\n")
    for k, out in enumerate((blocker / "pages", blocker)):
        assert main(_unstack_or_stack_args(command, tmp_path / f"in{k}", out)) == 2
        err = capsys.readouterr().err
        assert f"{blocker} is a file" in err and "Errno" not in err, err


def test_an_output_folder_not_made_yet_that_is_the_images_folder_is_refused(model, tmp_path,
                                                                            capsys):
    # -o new/masks/.. does not exist until masks/ is made, so the check that the masks do not
    # go among the images passed it over, and rgb.png, the image, was replaced by its mask.
    folder = _new_images(tmp_path / "new")
    image = (folder / "rgb.png").read_bytes()
    out = folder / "masks" / ".."
    assert main(["predict", str(model), str(folder / "rgb.png"), "-o", str(out)]) == 2
    assert f"{out} holds the images to predict (rgb.png)" in capsys.readouterr().err
    assert (folder / "rgb.png").read_bytes() == image
    assert not (folder / "masks").exists()  # refused before any folder was made


@pytest.mark.parametrize("command", ["export", "predict", "unstack", "stack"])
def test_missing_folders_above_an_output_are_made_and_said(model, tmp_path, capsys, command):
    # `unet export MODEL --onnx /data/exprot/m.onnx` (a typo) made /data/exprot silently, as
    # `unet predict -o` made its folder's missing parents: each now makes them and says so
    def argv(out: Path) -> list[str]:
        if command == "export":
            return ["export", str(model), "--onnx", str(out / "m.onnx")]
        if command == "predict":
            return ["predict", str(model), str(_new_images(tmp_path / "new")), "-o", str(out)]
        return _unstack_or_stack_args(command, tmp_path / f"in_{out.name}", out)

    out = tmp_path / "made" / "here"
    assert main(argv(out)) == 0
    err = capsys.readouterr().err
    assert f"{out} did not exist: made it (from {tmp_path / 'made'} down)" in err, err
    (tmp_path / "there").mkdir()
    assert main(argv(tmp_path / "there")) == 0  # also no word from made scratch folders
    assert "did not exist" not in capsys.readouterr().err  # a folder there already: no word
