"""Bands kept in a file each (38-Cloud: train_red/red_<id>.TIF, train_green/, train_blue/,
train_nir/, masks in train_gt/gt_<id>.TIF) are stacked into one multi-band image per pair.
Before, only the first band's folder was read: the model never saw the near-infrared band."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict
from unet.cache.settings import PreprocessSettings
from unet.common.bands import read_bands
from unet.common.fileio import read_json, write_json
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, data_files, layout_from

BANDS = ("red", "green", "blue", "nir")
SETTINGS = {
    "images": "train_red", "image_prefix": "red_", "masks": "train_gt", "mask_prefix": "gt_",
    "band_files": [f"train_{b}/{b}_{{id}}.TIF" for b in BANDS[1:]],
}


def _cloud(root, n: int = 8) -> None:
    """38-Cloud's layout: 16-bit bands a file each; the discs show in near-infrared only."""
    rng = np.random.default_rng(0)
    for b in (*BANDS, "gt"):
        (root / f"train_{b}").mkdir(parents=True)
    for i in range(n):
        disc = _disc(i) > 0.5
        for k, b in enumerate(BANDS):
            band = rng.integers(9000, 11000, (H, W)).astype(np.uint16) + 100 * k
            if b == "nir":
                band[disc] = 40000
            tifffile.imwrite(root / f"train_{b}/{b}_patch_{i}.TIF", band)
        tifffile.imwrite(root / f"train_gt/gt_patch_{i}.TIF", disc.astype(np.uint8) * 255)


def _manifest(root, **changes):
    return write_manifest(root / "manifest.json", "local", root,
                          layout_from({**SETTINGS, **changes}, "local"))


def test_bands_of_one_image_are_stacked_in_order(tmp_path):
    _cloud(tmp_path)
    pair = _manifest(tmp_path)["pairs"][0]
    assert pair["id"] == "patch_0" and pair["size"] == [W, H]
    assert pair["image"] == str(tmp_path / "stacked_images" / "patch_0.tif")
    assert pair["image_bands"] == [str(tmp_path / f"train_{b}/{b}_patch_0.TIF") for b in BANDS]
    stacked = tifffile.imread(pair["image"])
    for k in range(len(BANDS)):
        assert np.array_equal(stacked[..., k], tifffile.imread(pair["image_bands"][k]))
    bands = read_bands(pair["image"])  # 8 bits by one range: near-infrared discs brightest
    assert bands.shape == (H, W, 4) and bands[..., 3].max() == 255 > bands[..., :3].max()


def test_a_stacked_data_set_trains_on_every_band(tmp_path):
    from unet.cache.reader import load_split

    _cloud(tmp_path)
    ids = [p["id"] for p in _manifest(tmp_path)["pairs"]]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 4
    images = load_split(tmp_path / "cache", "train")[0]
    assert images.shape[1:] == (H, W, 4) and images[..., 3].max() == 255
    assert len(list(_train_and_predict(tmp_path).glob("*.png"))) == 2


def test_a_missing_band_file_is_named_or_skipped(tmp_path, caplog):
    _cloud(tmp_path)
    (tmp_path / "train_nir/nir_patch_3.TIF").unlink()
    with pytest.raises(DataLayoutError, match=r"nir_patch_3\.TIF.*allow_unpaired"):
        _manifest(tmp_path)
    with caplog.at_level(logging.WARNING):
        pairs = _manifest(tmp_path, allow_unpaired=True)["pairs"]
    assert "patch_3" not in [p["id"] for p in pairs] and len(pairs) == 7
    assert "nir_patch_3.TIF" in caplog.text


@pytest.mark.parametrize(("break_it", "message"), [
    (lambda root: tifffile.imwrite(root / "train_blue/blue_patch_2.TIF",
                                   np.zeros((2, 3, H, W), np.uint16), photometric="minisblack"),
     r"blue_patch_2\.TIF holds an array of shape \(2, 3, 32, 40\), no image of bands"),
    (lambda root: tifffile.imwrite(root / "train_blue/blue_patch_2.TIF",  # 2 pages, not H=2
                                   np.zeros((2, H, W), np.uint16), photometric="minisblack"),
     r"blue_patch_2\.TIF holds an array of shape \(2, 32, 40\), no image of bands"),
    (lambda root: tifffile.imwrite(root / "train_blue/blue_patch_2.TIF",
                                   np.zeros((H, W + 1), np.uint16)),
     r"blue_patch_2\.TIF is 41x32 uint16 but .*red_patch_2\.TIF is 40x32 uint16"),
    (lambda root: tifffile.imwrite(root / "train_blue/blue_patch_2.TIF",
                                   np.zeros((H, W), np.uint8)),
     r"blue_patch_2\.TIF is 40x32 uint8 but .*uint16: the bands of one image"),
])
def test_bands_that_cannot_stack_are_refused_naming_the_file(tmp_path, break_it, message):
    _cloud(tmp_path)
    break_it(tmp_path)
    with pytest.raises(DataLayoutError, match=message):
        _manifest(tmp_path)
    assert not (tmp_path / "manifest.json").exists()


def test_templates_need_the_id(tmp_path):
    """The example is quoted as the template is ('{group}' layouts' example was, this not)."""
    _cloud(tmp_path)
    with pytest.raises(DataLayoutError, match=r"band_files: 'train_nir/nir\.TIF' has no \{id\}"
                       r".*e\.g\. 'train_nir/nir_\{id\}\.TIF'$"):
        _manifest(tmp_path, band_files=["train_nir/nir.TIF"])


def test_band_files_are_inputs_of_the_data_set(tmp_path):
    _cloud(tmp_path, n=2)
    files = data_files(tmp_path, layout_from(SETTINGS, "local"))
    assert tmp_path / "train_nir/nir_patch_1.TIF" in files
    assert tmp_path / "train_red/red_patch_1.TIF" in files


def test_png_bands_stack_too(tmp_path):
    for b in ("a", "b"):
        (tmp_path / b).mkdir()
    (tmp_path / "m").mkdir()
    for i in range(2):
        Image.fromarray(np.full((H, W), 10 * i, np.uint8)).save(tmp_path / f"a/{i}.png")
        Image.fromarray(np.full((H, W), 200, np.uint8)).save(tmp_path / f"b/{i}.png")
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / f"m/{i}.png")
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path, layout_from(
        {"images": "a", "masks": "m", "band_files": ["b/{id}.png"]}, "local"))
    stacked = read_bands(manifest["pairs"][1]["image"])
    assert stacked.shape == (H, W, 2) and stacked[0, 0].tolist() == [10, 200]
    assert read_json(tmp_path / "manifest.json") == manifest


def _test_scenes(root, n: int = 3) -> None:
    """38-Cloud's test folders: test_red/red_<id>.TIF and the further bands beside them."""
    rng = np.random.default_rng(1)
    for b in BANDS:
        (root / f"test_{b}").mkdir(parents=True)
        for i in range(n):
            tifffile.imwrite(root / f"test_{b}/{b}_scene_{i}.TIF",
                             rng.integers(0, 30000, (H, W)).astype(np.uint16))


def test_unet_stack_gives_new_scenes_the_bands_a_model_learnt(tmp_path, monkeypatch, capsys):
    """unet stack: new images kept a band per file become the multi-band TIFFs unet predict
    reads, named by id; before, the command did not exist and the README left users to stack
    them themselves."""
    from unet.cli import main

    _cloud(tmp_path)
    ids = [p["id"] for p in _manifest(tmp_path)["pairs"]]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    _train_and_predict(tmp_path)
    _test_scenes(tmp_path)
    monkeypatch.chdir(tmp_path)
    templates = [f"test_{b}/{b}_{{id}}.TIF" for b in BANDS[1:]]
    assert main(["stack", "test_red", *templates, "--prefix", "red_", "-o", "scenes"]) == 0
    assert "3 images" in capsys.readouterr().out
    for i in range(3):
        stacked = tifffile.imread(f"scenes/scene_{i}.tif")
        want = np.stack([tifffile.imread(f"test_{b}/{b}_scene_{i}.TIF") for b in BANDS], -1)
        assert stacked.dtype == np.uint16 and np.array_equal(stacked, want)
    assert main(["predict", "model.pt", "scenes", "-o", "masks", "--device", "cpu"]) == 0
    masks = sorted(p.name for p in (tmp_path / "masks").glob("*.png"))
    assert masks == ["scene_0.png", "scene_1.png", "scene_2.png"]
    assert main(["info", "model.pt"]) == 0  # how new images must come
    assert "4 channel(s), one multi-band TIFF an image (unet stack" in capsys.readouterr().out
    # One band's file alone: said to be one band ("1 or 3" before), with the way to stack them
    assert main(["predict", "model.pt", "test_red", "-o", "red", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    # every such file named in one error (8674556), the model's band count said once
    assert "3 new images cannot be predicted" in err
    for i in range(3):
        assert f"red_scene_{i}.TIF is a grey image (1 band)" in err
    assert "The model reads 4" in err
    assert "unet stack" in err


def test_unet_stack_refuses_before_writing_anything(tmp_path, monkeypatch, capsys):
    from unet.cli import main

    _test_scenes(tmp_path)
    monkeypatch.chdir(tmp_path)
    templates = [f"test_{b}/{b}_{{id}}.TIF" for b in BANDS[1:]]
    (tmp_path / "test_nir/nir_scene_2.TIF").unlink()
    assert main(["stack", "test_red", *templates, "--prefix", "red_", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert "nir_scene_2.TIF" in err and not list((tmp_path / "out").glob("*.tif"))
    assert main(["stack", "test_red", "test_nir/nir.TIF", "-o", "out"]) == 2
    assert "{id}" in capsys.readouterr().err
    # A file not named prefix + id is named, not guessed at.
    assert main(["stack", "test_red", *templates, "--prefix", "blue_", "-o", "out"]) == 2
    assert "red_scene_0.TIF" in capsys.readouterr().err
    # What is there already is never overwritten: nothing moves in.
    (tmp_path / "test_nir/nir_scene_2.TIF").write_bytes(
        (tmp_path / "test_nir/nir_scene_1.TIF").read_bytes())
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out/scene_1.tif").write_text("mine")
    assert main(["stack", "test_red", *templates, "--prefix", "red_", "-o", "out"]) == 2
    assert "scene_1.tif" in capsys.readouterr().err
    assert (tmp_path / "out/scene_1.tif").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scene_1.tif"]
