"""Change detection on image pairs (LEVIR-CD: train/A/<id>.png before, train/B/<id>.png after,
train/label/<id>.png the change): `band_files` and `unet stack` join the two RGB images into
one 6-band image, A's red, green and blue then B's. Before, every RGB file was refused as "a
RGB image; band_files names files of one band each", so a pair could not be trained at all."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.dataset.download import write_manifest
from unet.dataset.layout import layout_from

LEVIR = {"images": "{group}/A", "masks": "{group}/label", "band_files": ["{group}/B/{id}.png"]}


def _levir(root, n: int = 4) -> None:
    """LEVIR-CD's layout, official parts kept; the change is a disc that only B shows, and
    every other label is saved as RGB 0/255, as some tools write them."""
    rng = np.random.default_rng(0)
    for part in ("train", "val", "test"):
        for side in ("A", "B", "label"):
            (root / part / side).mkdir(parents=True)
        for i in range(n):
            disc = _disc(i) > 0.5
            before = rng.integers(40, 120, (H, W, 3)).astype(np.uint8)
            after = (before * 0.8 + 30).astype(np.uint8)  # the same scene, other light
            after[disc] = (210, 90, 60)  # a new red roof
            Image.fromarray(before).save(root / part / "A" / f"{part}_{i}.png")
            Image.fromarray(after).save(root / part / "B" / f"{part}_{i}.png")
            label = disc.astype(np.uint8) * 255
            Image.fromarray(np.dstack([label] * 3) if i % 2 else label).save(
                root / part / "label" / f"{part}_{i}.png")


def _manifest(root):
    return write_manifest(root / "manifest.json", "local", root, layout_from(LEVIR, "local"))


def test_an_image_pair_stacks_as_six_bands_in_order(tmp_path):
    _levir(tmp_path)
    pairs = {p["id"]: p for p in _manifest(tmp_path)["pairs"]}
    assert sorted(pairs) == [f"{part}_{part}_{i}" for part in ("test", "train", "val")
                             for i in range(4)]
    pair = pairs["train_train_1"]
    stacked = tifffile.imread(pair["image"])
    before = np.asarray(Image.open(tmp_path / "train/A/train_1.png"))
    after = np.asarray(Image.open(tmp_path / "train/B/train_1.png"))
    assert stacked.shape == (H, W, 6)
    assert np.array_equal(stacked, np.concatenate([before, after], axis=-1))


def test_a_pair_data_set_trains_on_six_channels(tmp_path, capsys):
    _levir(tmp_path)
    ids = [p["id"] for p in _manifest(tmp_path)["pairs"]]
    write_json(tmp_path / "split.json", {part: [i for i in ids if i.startswith(part)]
                                         for part in ("train", "val", "test")})
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 6
    assert meta["class_values"] == [0, 255]  # the RGB-saved labels read as the grey ones
    images, masks = load_split(tmp_path / "cache", "train")[:2]
    for k, i in enumerate(sorted(i for i in ids if i.startswith("train"))):
        part, stem = i.split("_", 1)
        want = np.concatenate([np.asarray(Image.open(tmp_path / part / side / f"{stem}.png"))
                               for side in ("A", "B")], axis=-1)
        assert np.array_equal(images[k], want)  # 8-bit bands kept as they are, in order
        assert np.array_equal(masks[k], _disc(int(stem[-1])) > 0.5)
    written = sorted(_train_and_predict(tmp_path).glob("*.png"))
    assert len(written) == 4
    assert all(set(np.unique(np.asarray(Image.open(p)))) <= {0, 255} for p in written)
    # the before images alone: refused, saying how a pair becomes the model's 6 bands
    from unet.cli import main

    assert main(["predict", str(tmp_path / "model.pt"), str(tmp_path / "test/A"), "-o",
                 str(tmp_path / "alone"), "--device", "cpu"]) == 2
    assert "unet stack makes them from a file per band, or per image of a pair" in \
        capsys.readouterr().err


def test_unet_stack_joins_two_folders_of_rgb_images(tmp_path, monkeypatch, capsys):
    """A new pair for `unet predict`: its before and after folders become one folder of
    6-band TIFFs, as the data set's were."""
    from unet.cli import main

    _levir(tmp_path, n=2)
    monkeypatch.chdir(tmp_path)
    assert main(["stack", "test/A", "test/B/{id}.png", "-o", "pairs"]) == 0
    assert "2 images" in capsys.readouterr().out
    for i in range(2):
        stacked = tifffile.imread(f"pairs/test_{i}.tif")
        want = np.concatenate([np.asarray(Image.open(f"test/{s}/test_{i}.png"))
                               for s in ("A", "B")], axis=-1)
        assert np.array_equal(stacked, want)


def test_a_pair_of_other_bands_names_its_band_files(tmp_path):
    """One after image saved grey stacks as 4 bands beside the others' 6: the refusal names
    the files it was stacked from, not only its stack under stacked_images/."""
    _levir(tmp_path)
    grey = Image.open(tmp_path / "train/B/train_2.png").convert("L")
    grey.save(tmp_path / "train/B/train_2.png")
    ids = [p["id"] for p in _manifest(tmp_path)["pairs"]]
    write_json(tmp_path / "split.json", {part: [i for i in ids if i.startswith(part)]
                                         for part in ("train", "val", "test")})
    with pytest.raises(ValueError, match=r"train_train_2\.tif has 4 \(stacked from .*"
                                         r"train/A/train_2\.png, .*train/B/train_2\.png\)"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
