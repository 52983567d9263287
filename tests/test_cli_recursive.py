"""`unet predict --recursive`: a folder's subfolders (LoveDA's Test/Urban/images_png/1.png beside
Test/Rural/images_png/1.png, CTC's 01/t000.tif beside 02/t000.tif) mirrored under -o, as
predict.recursive mirrors them for the predict_folder rule."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.test_cli_folds import tiny_record
from unet.cli import main

LOVEDA = ["Urban/images_png/1.png", "Rural/images_png/1.png", "top.png"]


@pytest.fixture
def model(tmp_path) -> str:
    torch.save(tiny_record(), tmp_path / "model.pt")
    return str(tmp_path / "model.pt")


def _images(root: Path, names: list[str]) -> Path:
    for k, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(k)
        Image.fromarray(rng.integers(0, 255, (12, 10, 3), np.uint8)).save(root / name)
    return root


def _masks(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))


def _predict(model: str, *args: str) -> int:
    return main(["predict", model, *map(str, args), "--device", "cpu", "--recursive"])


def test_a_folder_s_subfolders_are_mirrored_under_out(model, tmp_path, capsys):
    # Without the flag the two 1.png are refused ("predict into separate output folders"),
    # and the images in subfolders are not read at all.
    data, out = _images(tmp_path / "Test", LOVEDA), tmp_path / "out"
    assert _predict(model, data, "-o", out) == 0, capsys.readouterr().err
    assert _masks(out) == sorted(LOVEDA)
    assert Image.open(out / "Urban/images_png/1.png").size == (10, 12)
    assert "3 masks written" in capsys.readouterr().out


def test_a_rerun_predicts_only_what_is_new(model, tmp_path, capsys):
    data, out = _images(tmp_path / "Test", LOVEDA), tmp_path / "out"
    assert _predict(model, data, "-o", out) == 0
    before = {m: (out / m).stat().st_mtime_ns for m in _masks(out)}
    assert _predict(model, data, "-o", out) == 0
    assert "0 masks written" in capsys.readouterr().out
    _images(data, ["Rural/images_png/2.png"])
    assert _predict(model, data, "-o", out) == 0
    assert "1 mask written" in capsys.readouterr().out
    after = {m: (out / m).stat().st_mtime_ns for m in _masks(out)}
    assert after.pop("Rural/images_png/2.png") and after == before


def test_a_pattern_is_mirrored_from_its_fixed_folders(model, tmp_path, capsys):
    from unet.infer.named import image_bases

    data = _images(tmp_path / "Test", LOVEDA)
    found = image_bases([f"{data}/**/images_png/*.png"], None, None, recursive=True)
    assert {f.relative_to(base).as_posix() for f, base in found.items()} == set(LOVEDA[:2])
    assert _predict(model, f"{data}/**/images_png/*.png", "-o", tmp_path / "out") == 0
    assert _masks(tmp_path / "out") == sorted(LOVEDA[:2])
    # without --recursive two 1.png are still one name: refused, as before
    assert main(["predict", model, f"{data}/**/*.png", "-o", str(tmp_path / "flat")]) == 2
    assert "unet predict --recursive mirrors" in capsys.readouterr().err  # offered


def test_out_inside_the_folder_leaves_its_own_masks_out(model, tmp_path, capsys):
    data = _images(tmp_path / "Test", LOVEDA)
    out = data / "pred"
    assert _predict(model, data, "-o", out) == 0
    assert _predict(model, data, "-o", out) == 0, capsys.readouterr().err
    assert "0 masks written" in capsys.readouterr().out
    assert _masks(out) == sorted(LOVEDA)  # no pred/pred/...
    assert _predict(model, f"{data}/**/*.png", "-o", out) == 0  # a pattern's too
    assert "0 masks written" in capsys.readouterr().out and _masks(out) == sorted(LOVEDA)


def test_out_inside_the_folder_holding_images_of_its_own_is_refused(model, tmp_path, capsys):
    data = _images(tmp_path / "Test", [*LOVEDA, "mine/a.png"])
    assert _predict(model, data, "-o", data / "mine") == 2
    err = capsys.readouterr().err
    assert f"{data / 'mine'}" in err and "inside" in err, err
    assert not (data / "mine/.unet-predict.jsonl").exists()


def test_out_as_the_folder_itself_never_replaces_an_image(model, tmp_path, capsys):
    # The masks of sub/a.png would be sub/a.png itself: refused, the images kept.
    data = _images(tmp_path / "Test", ["s1/a.png", "s2/b.png"])
    before = (data / "s1/a.png").read_bytes()
    assert _predict(model, data, "-o", data) == 2
    assert "holds the images to predict" in capsys.readouterr().err
    assert (data / "s1/a.png").read_bytes() == before


def _rows(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return sorted(row["ImageId"] for row in csv.DictReader(f))


def test_rle_rows_are_keyed_by_the_subpath(model, tmp_path):
    data, out = _images(tmp_path / "Test", LOVEDA), tmp_path / "out"
    assert _predict(model, data, "-o", out, "--rle", tmp_path / "sub.csv") == 0
    assert _rows(tmp_path / "sub.csv") == sorted(LOVEDA)
    assert _predict(model, data, "-o", out, "--rle", tmp_path / "stem.csv", "--rle-id",
                    "stem") == 0
    assert _rows(tmp_path / "stem.csv") == sorted(n[:-4] for n in LOVEDA)


def test_roi_id_is_the_subpath(model, tmp_path):
    data = _images(tmp_path / "Test", LOVEDA)
    for name in LOVEDA:  # an all-zero region: every mask class 0
        roi = tmp_path / "fov" / name
        roi.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((12, 10), np.uint8)).save(roi)
    out = tmp_path / "out"
    assert _predict(model, data, "-o", out, "--roi", f"{tmp_path}/fov/{{id}}.png") == 0
    assert _masks(out) == sorted(LOVEDA)
    assert not np.asarray(Image.open(out / "Rural/images_png/1.png")).any()


def test_without_the_flag_the_warning_offers_it(model, tmp_path, capsys):
    data = _images(tmp_path / "Test", LOVEDA)
    assert main(["predict", model, str(data), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "Urban/ holds 1" in err and "give --recursive" in err, err


def test_an_image_reached_through_two_inputs_gets_one_mask(model, tmp_path):
    # Test/ and Test/Urban both named: Urban's 1.png once, as Urban/images_png/1.png (first)
    data, out = _images(tmp_path / "Test", LOVEDA), tmp_path / "out"
    assert _predict(model, data, data / "Urban", "-o", out) == 0
    assert _masks(out) == sorted(LOVEDA)
    # two links of one name in two subfolders, to one file: two images, as the rule reads them
    (data / "s1").mkdir()
    (data / "s2").mkdir()
    (data / "s1/x.png").symlink_to(data / "top.png")
    (data / "s2/x.png").symlink_to(data / "top.png")
    assert _predict(model, data, "-o", out) == 0
    assert {"s1/x.png", "s2/x.png"} <= set(_masks(out))


@pytest.mark.parametrize("order", [1, -1])
def test_several_folders_named_are_mirrored_from_the_folder_they_share(model, tmp_path, order):
    # The Cell Tracking Challenge's 01/ and 02/ named (their parent holds 01_GT/ too): each
    # folder mirrored from itself, both t000.png were refused as one mask, the flag offered.
    data, out = _images(tmp_path / "ctc", ["01/t000.png", "02/t000.png", "01_GT/m.png"]), \
        tmp_path / "out"
    assert _predict(model, *[data / "01", data / "02"][::order], "-o", out) == 0
    assert _masks(out) == ["01/t000.png", "02/t000.png"]
    # Test/Urban named before Test: Urban's image mirrored from Test too, whichever came first
    test = _images(tmp_path / "Test", LOVEDA)
    assert _predict(model, *[test / "Urban", test][::order], "-o", tmp_path / "o2") == 0
    assert _masks(tmp_path / "o2") == sorted(LOVEDA)
