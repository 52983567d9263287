"""Several mask files of one image (BUSI's `benign (3)_mask_1.png` beside `benign (3)_mask.png`)
are merged into one mask, never silently dropped."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from tests.conftest import copy_workflow, snakemake
from unet.dataset.download import download_dataset
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def _busi(root, n=3, size=(40, 30)):
    """BUSI's layout: images and masks in one folder per class, names with spaces and
    parentheses; image 2 of each class has a second lesion in `<id>_mask_1.png`."""
    w, h = size
    for cls in ("benign", "malignant"):
        folder = root / cls
        folder.mkdir(parents=True)
        for i in range(1, n + 1):
            Image.fromarray(np.full((h, w, 3), 40 * i, np.uint8)).save(folder / f"{cls} ({i}).png")
            first = np.zeros((h, w), np.uint8)
            first[2:8, 2:8] = 255
            Image.fromarray(first).save(folder / f"{cls} ({i})_mask.png")
            if i == 2:
                second = np.zeros((h, w), np.uint8)
                second[20:26, 30:36] = 255
                Image.fromarray(second).save(folder / f"{cls} ({i})_mask_1.png")


BUSI = Layout(images=".", masks=".", mask_suffix="_mask", recursive=True)


def test_further_masks_are_named_with_the_key_that_merges_them(tmp_path):
    _busi(tmp_path)
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path, BUSI)
    message = str(err.value)
    assert "benign (2)_mask_1.png" in message
    assert "further masks of benign (2)" in message
    assert r"dataset.local.mask_parts: '_\d+'" in message


def test_further_masks_in_a_mask_folder_are_not_dropped_in_silence(tmp_path, caplog):
    """Carvana-like folders: masks/a_mask_1.png ends with no suffix, so it pairs with nothing;
    it used to be passed over without a word while a_mask.png paired."""
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("images/a.png", "images/b.png", "masks/a_mask.png", "masks/b_mask.png",
                 "masks/a_mask_1.png"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(DataLayoutError, match=r"a_mask_1\.png.*further masks of a.*mask_parts"):
        pair_files(tmp_path, Layout(mask_suffix="_mask"))
    with caplog.at_level(logging.WARNING):
        pairs = pair_files(tmp_path, Layout(mask_suffix="_mask", allow_unpaired=True))
    assert [p[0] for p in pairs] == ["a", "b"]
    assert "a_mask_1.png" in caplog.text


def test_mask_parts_pairs_every_mask_of_an_image(tmp_path):
    _busi(tmp_path)
    layout = Layout(images=".", masks=".", mask_suffix="_mask", recursive=True,
                    mask_parts=r"_\d+")
    pairs = {i: (im.name, [m.name for m in masks]) for i, im, masks in pair_files(tmp_path, layout)}
    assert len(pairs) == 6  # the further masks are not images
    assert pairs["benign (2)"] == ("benign (2).png", ["benign (2)_mask.png",
                                                      "benign (2)_mask_1.png"])
    assert pairs["malignant (1)"] == ("malignant (1).png", ["malignant (1)_mask.png"])


def test_an_id_that_looks_like_a_part_stays_an_image(tmp_path):
    """a_1.png is an image of its own when it has its own mask, not a part of a."""
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("images/a.png", "images/a_1.png", "masks/a.png", "masks/a_1.png",
                 "masks/a_2.png"):
        (tmp_path / name).write_bytes(b"")
    pairs = pair_files(tmp_path, Layout(mask_parts=r"_\d+"))
    assert [(i, [m.name for m in masks]) for i, _, masks in pairs] == [
        ("a", ["a.png", "a_2.png"]), ("a_1", ["a_1.png"])]


def test_a_broken_expression_names_the_key(tmp_path):
    _busi(tmp_path)
    layout = Layout(images=".", masks=".", mask_suffix="_mask", recursive=True, mask_parts="(")
    with pytest.raises(DataLayoutError, match=r"dataset\.local\.mask_parts '\('"):
        pair_files(tmp_path, layout)


def test_manifest_points_at_the_union_of_the_masks(tmp_path):
    _busi(tmp_path / "data")
    settings = {"path": str(tmp_path / "data"), "images": ".", "masks": ".",
                "mask_suffix": "_mask", "recursive": True, "mask_parts": r"_\d+"}
    manifest = download_dataset(tmp_path / "res" / "manifest.json", "local", settings)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    merged = by_id["benign (2)"]
    assert merged["mask"] == str(tmp_path / "res" / "merged_masks" / "benign (2).png")
    assert [m.rsplit("/", 1)[1] for m in merged["mask_parts"]] == [
        "benign (2)_mask.png", "benign (2)_mask_1.png"]
    union = np.asarray(Image.open(merged["mask"]))
    assert union.dtype == np.uint8 and set(np.unique(union)) == {0, 255}
    assert union[2:8, 2:8].all() and union[20:26, 30:36].all()
    assert union.sum() == 2 * 36 * 255
    single = by_id["benign (1)"]  # one mask: used in place, no copy
    assert single["mask"].endswith("benign (1)_mask.png") and "mask_parts" not in single


def test_masks_of_one_image_must_share_its_size(tmp_path):
    _busi(tmp_path / "data")
    part = tmp_path / "data" / "benign" / "benign (2)_mask_1.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(part)
    settings = {"path": str(tmp_path / "data"), "images": ".", "masks": ".",
                "mask_suffix": "_mask", "recursive": True, "mask_parts": r"_\d+"}
    with pytest.raises(DataLayoutError, match=r"benign \(2\)_mask_1\.png is 10x10.*40x30"):
        download_dataset(tmp_path / "res" / "manifest.json", "local", settings, processes=2)
    assert not (tmp_path / "res" / "manifest.json").exists()


def test_palette_masks_merge_in_their_indices_and_keep_their_palette(tmp_path):
    from unet.dataset.merge import merge_masks

    palette = [0, 0, 0, 200, 30, 30, 30, 200, 30] + [0] * (256 * 3 - 9)
    paths = []
    for k, box in enumerate(((slice(0, 4), 1), (slice(6, 10), 2))):
        index = np.zeros((10, 12), np.uint8)
        index[box[0]] = box[1]
        im = Image.fromarray(index, mode="P")
        im.putpalette(palette)
        paths.append(tmp_path / f"m{k}.png")
        im.save(paths[-1])
    merge_masks(paths, tmp_path / "out.png")
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "P" and out.getpalette()[:9] == palette[:9]
    values = np.asarray(out)
    assert (values[:4] == 1).all() and (values[6:] == 2).all() and (values[4:6] == 0).all()


@pytest.mark.workflow
def test_busi_layout_runs_end_to_end(tmp_path):
    """The workflow on BUSI's layout: spaces and parentheses in every output name, merged
    masks as the ground truth of the evaluation."""
    _busi(tmp_path / "data", n=4, size=(48, 40))
    work = copy_workflow(tmp_path / "wf")
    config = {
        "dataset": {"name": "busi", "source": "local",
                    "local": {"path": str(tmp_path / "data"), "images": ".", "masks": ".",
                              "mask_suffix": "_mask", "recursive": True,
                              "mask_parts": r"_\d+"}},
        "split": {"val_fraction": 0.25, "test_fraction": 0.25},
        "preprocess": {"width": 32, "height": 32},
        "model": {"depth": 2, "base_width": 4},
        "train": {"epochs": 1, "warmup_epochs": 0, "batch_size": 2, "device": "cpu"},
        "predict": {"device": "cpu"},
        "crf": {"iterations": 1, "tune": {"max_images": 2, "grid": {"bilateral_srgb": [5]}}},
    }
    (work / "busi.yaml").write_text(json.dumps(config))
    snakemake(work, "--cores", "2", "--resources", "gpu=1", "--configfile", "busi.yaml")
    manifest = json.loads((work / "resources" / "busi" / "manifest.json").read_text())
    assert sum("mask_parts" in p for p in manifest["pairs"]) == 2
    summary = work / "results" / "busi" / "baseline" / "metrics" / "summary.json"
    assert summary.exists()


def test_masks_of_one_image_with_other_palettes_are_refused(tmp_path):
    from unet.dataset.merge import merge_masks

    paths = []
    for k, palette in enumerate(([0, 0, 0, 255, 255, 255], [255, 255, 255, 0, 0, 0])):
        im = Image.fromarray(np.eye(6, dtype=np.uint8), mode="P")
        im.putpalette(palette)
        paths.append(tmp_path / f"m{k}.png")
        im.save(paths[-1])
    with pytest.raises(DataLayoutError, match=r"m1\.png and .*m0\.png have different palettes"):
        merge_masks(paths, tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


def _montgomery(root, n=3):
    """Montgomery's layout: CXR_png/<id>.png, ManualMask/leftMask/<id>.png and
    ManualMask/rightMask/<id>.png, one lung in each."""
    for sub in ("CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        name = f"MCUCXR_{i:04d}_0.png"
        Image.fromarray(np.full((30, 40), 90, np.uint8)).save(root / "CXR_png" / name)
        for sub, cols in (("leftMask", slice(2, 15)), ("rightMask", slice(25, 38))):
            lung = np.zeros((30, 40), np.uint8)
            lung[5:25, cols] = 255
            Image.fromarray(lung).save(root / "ManualMask" / sub / name)


def test_masks_in_several_folders_are_merged(tmp_path):
    _montgomery(tmp_path / "data")
    settings = {"path": str(tmp_path / "data"), "images": "CXR_png",
                "masks": ["ManualMask/leftMask", "ManualMask/rightMask"]}
    manifest = download_dataset(tmp_path / "res" / "manifest.json", "local", settings,
                                processes=2)
    assert len(manifest["pairs"]) == 3
    pair = manifest["pairs"][0]
    assert [m.split("/")[-2] for m in pair["mask_parts"]] == ["leftMask", "rightMask"]
    lungs = np.asarray(Image.open(pair["mask"]))
    assert lungs[5:25, 2:15].all() and lungs[5:25, 25:38].all() and not lungs[:, 16:24].any()


def test_an_image_missing_from_one_mask_folder_is_named(tmp_path):
    _montgomery(tmp_path / "data")
    (tmp_path / "data" / "ManualMask" / "rightMask" / "MCUCXR_0001_0.png").unlink()
    layout = Layout(images="CXR_png", masks=("ManualMask/leftMask", "ManualMask/rightMask"))
    with pytest.raises(DataLayoutError, match=r"images with no mask in .*rightMask: MCUCXR_0001"):
        pair_files(tmp_path / "data", layout)


def test_one_mask_folder_in_a_list_is_the_folder(tmp_path):
    _montgomery(tmp_path / "data")
    pairs = pair_files(tmp_path / "data", Layout(images="CXR_png", masks=("ManualMask/leftMask",)))
    assert [len(masks) for _, _, masks in pairs] == [1, 1, 1]


def test_other_files_beside_the_masks_are_not_refused(tmp_path, caplog):
    """Cityscapes keeps colour renderings and instance ids beside its label ids in gtFine/:
    files of another kind, not further masks, are named in a warning and the pairs stand."""
    city = "aachen_000000_000019"
    (tmp_path / "leftImg8bit").mkdir()
    (tmp_path / "gtFine").mkdir()
    (tmp_path / "leftImg8bit" / f"{city}_leftImg8bit.png").write_bytes(b"")
    for kind in ("labelIds", "color", "instanceIds"):
        (tmp_path / "gtFine" / f"{city}_gtFine_{kind}.png").write_bytes(b"")
    layout = Layout(images="leftImg8bit", masks="gtFine", image_suffix="_leftImg8bit",
                    mask_suffix="_gtFine_labelIds")
    with caplog.at_level(logging.WARNING):
        pairs = pair_files(tmp_path, layout)
    assert [(i, m.name) for i, _, m in pairs] == [(city, f"{city}_gtFine_labelIds.png")]
    assert f"{city}_gtFine_color.png" in caplog.text and "pair with nothing" in caplog.text


def test_allow_unpaired_skips_an_image_missing_from_one_mask_folder_whole(tmp_path, caplog):
    """One lung's mask missing: the image is skipped, not trained on half its mask."""
    _montgomery(tmp_path / "data")
    (tmp_path / "data" / "ManualMask" / "rightMask" / "MCUCXR_0001_0.png").unlink()
    layout = Layout(images="CXR_png", masks=("ManualMask/leftMask", "ManualMask/rightMask"),
                    allow_unpaired=True)
    with caplog.at_level(logging.WARNING):
        pairs = pair_files(tmp_path / "data", layout)
    assert [i for i, _, _ in pairs] == ["MCUCXR_0000_0", "MCUCXR_0002_0"]
    assert "MCUCXR_0001_0" in caplog.text


def _dsb(root, ids=("a1b2", "c3d4", "e5f6")):
    """The 2018 Data Science Bowl's layout: stage1_train/<id>/images/<id>.png (RGBA) and
    stage1_train/<id>/masks/<hash>.png, one file per nucleus."""
    for k, pid in enumerate(ids):
        (root / pid / "images").mkdir(parents=True)
        (root / pid / "masks").mkdir()
        rgba = np.full((20, 24, 4), 255, np.uint8)
        Image.fromarray(rgba).save(root / pid / "images" / f"{pid}.png")
        for n in range(k + 2):
            nucleus = np.zeros((20, 24), np.uint8)
            nucleus[2 + 5 * n : 5 + 5 * n, 3:7] = 255
            Image.fromarray(nucleus).save(root / pid / "masks" / f"{n:04x}{pid}.png")


def test_a_mask_folder_per_image_is_merged(tmp_path):
    _dsb(tmp_path / "data" / "stage1_train")
    settings = {"path": str(tmp_path / "data"), "images": "stage1_train", "recursive": True,
                "masks": "stage1_train/{id}/masks"}
    manifest = download_dataset(tmp_path / "res" / "manifest.json", "local", settings)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    assert sorted(by_id) == ["a1b2", "c3d4", "e5f6"]  # the nuclei are not images
    assert len(by_id["e5f6"]["mask_parts"]) == 4
    union = np.asarray(Image.open(by_id["e5f6"]["mask"]))
    assert (union > 0).sum() == 4 * 12


def test_an_image_without_its_mask_folder_is_named(tmp_path):
    _dsb(tmp_path / "stage1_train")
    for f in (tmp_path / "stage1_train" / "c3d4" / "masks").iterdir():
        f.unlink()
    layout = Layout(images="stage1_train", masks="stage1_train/{id}/masks", recursive=True)
    with pytest.raises(DataLayoutError, match=r"c3d4\.png.*no mask in .*c3d4/masks"):
        pair_files(tmp_path, layout)
    pairs = pair_files(tmp_path, replace(layout, allow_unpaired=True))
    assert [i for i, _, _ in pairs] == ["a1b2", "e5f6"]
