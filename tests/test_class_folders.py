"""One masks folder per class (`mask_folders: classes`), each with its own suffix: IDRiD's
lesion folders. Folder k is class k, a missing file an absent class."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 24, 32
FOLDERS = ("1. Microaneurysms", "2. Haemorrhages", "3. Hard Exudates")
IDRID = dict(images="images", masks=FOLDERS, mask_suffix=("_MA", "_HE", "_EX"),
             mask_folders="classes", mask_extensions=(".tif",), image_extensions=(".jpg",))


def _idrid(root, n=6):
    """n images; image i has class k's square when (i + k) % 3 != 0 (a file missing there),
    MA masks 0/1, the others 0/255; HE overlaps EX in image 1. Returns the expected classes."""
    (root / "images").mkdir(parents=True)
    expected = []
    for i in range(n):
        image = np.full((H, W, 3), 40 * i, np.uint8)
        Image.fromarray(image).save(root / f"images/IDRiD_{i:02d}.jpg")
        cls = np.zeros((H, W), np.uint8)
        for k, (folder, suffix) in enumerate(zip(FOLDERS, IDRID["mask_suffix"], strict=True), 1):
            if (i + k) % 3 == 0:
                continue
            on = np.zeros((H, W), bool)
            on[4 * k : 4 * k + 6, 5 * k : 5 * k + 8] = True
            if i == 1 and k == 2:
                on[12:20, 15:25] = True  # under the hard exudate: EX (later) wins
            (root / folder).mkdir(exist_ok=True)
            top = 1 if k == 1 else 255
            name = f"IDRiD_{i:02d}{suffix}.tif"
            Image.fromarray(on.astype(np.uint8) * top).save(root / folder / name)
            cls[on] = k
        expected.append(cls)
    return expected


def test_each_folder_is_a_class_and_a_missing_file_an_absent_one(tmp_path):
    # A list of masks folders was always merged into one class (their union), and one suffix
    # served every folder, so IDRiD's _MA, _HE and _EX masks could not even pair.
    expected = _idrid(tmp_path / "data")
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data",
                              Layout(**IDRID))
    pairs = manifest["pairs"]
    assert [p["id"] for p in pairs] == [f"IDRiD_{i:02d}" for i in range(6)]
    for pair, cls in zip(pairs, expected, strict=True):
        merged = Image.open(pair["mask"])
        assert merged.mode == "P" and np.array_equal(np.asarray(merged), cls), pair["id"]
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:5], "test": ids[5:]})
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 1, 2, 3]
    assert meta["class_names"] == ["background", *FOLDERS]  # named by their folders
    assert np.array_equal(load_split(tmp_path / "cache", "train")[1], np.stack(expected[:4]))


def test_class_folders_name_what_does_not_pair(tmp_path):
    _idrid(tmp_path)
    (tmp_path / "images" / "IDRiD_09.jpg").write_bytes(b"")  # no lesion file at all
    stray = tmp_path / FOLDERS[0] / "IDRiD_77_MA.tif"
    stray.write_bytes(b"")
    from unet.dataset.pairing import pair_files

    with pytest.raises(DataLayoutError, match=r"IDRiD_77_MA.*IDRiD_09\.jpg.*allow_unpaired"):
        pair_files(tmp_path, Layout(**IDRID))
    assert len(pair_files(tmp_path, Layout(**IDRID, allow_unpaired=True))) == 6
    with pytest.raises(DataLayoutError, match=r"lists 2 suffixes for 3 masks folder"):
        pair_files(tmp_path, Layout(**{**IDRID, "mask_suffix": ("_MA", "_HE")}))


def test_a_suffix_per_folder_for_the_union_of_folders(tmp_path):
    # Lungs in two folders, named with a suffix each: one suffix had to serve every folder.
    from unet.dataset.pairing import pair_files

    for name, folder, suffix in (("a", "left", "_left"), ("b", "left", "_left"),
                                 ("a", "right", "_R"), ("b", "right", "_R")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"{name}{suffix}.png").write_bytes(b"")
    (tmp_path / "images").mkdir()
    for name in "ab":
        (tmp_path / "images" / f"{name}.png").write_bytes(b"")
    pairs = pair_files(tmp_path, Layout(masks=("left", "right"), mask_suffix=("_left", "_R")))
    assert [(i, [m.name for m in masks]) for i, _, masks in pairs] == [
        ("a", ["a_left.png", "a_R.png"]), ("b", ["b_left.png", "b_R.png"])]


def test_red_on_black_class_masks_merge_like_grey_ones(tmp_path):
    """IDRiD's lesion masks are red on black (RGB or RGBA TIFFs): they were refused as
    colour masks, with no way round it, though each is as binary as a grey one."""
    expected = _idrid(tmp_path / "data")
    for path in sorted((tmp_path / "data").glob("*/*_EX.tif")):
        on = np.asarray(Image.open(path)) > 0
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[on] = (255, 0, 0, 255)
        Image.fromarray(rgba).save(path)
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data",
                              Layout(**IDRID))
    for pair, cls in zip(manifest["pairs"], expected, strict=True):
        assert np.array_equal(np.asarray(Image.open(pair["mask"])), cls), pair["id"]


def test_masks_of_another_size_are_named_by_the_users_files_not_the_merged_one(tmp_path):
    # IDRiD's masks drawn at half size: the refusal named merged_masks/IDRiD_00.png, a file
    # the pipeline writes, so "resize each mask" pointed at nothing the user could change
    _idrid(tmp_path / "data", n=3)
    for path in (tmp_path / "data").glob("*/*.tif"):
        Image.open(path).resize((W // 2, H // 2), Image.NEAREST).save(path)
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data",
                              Layout(**IDRID))
    ids = [p["id"] for p in manifest["pairs"]]
    write_json(tmp_path / "split.json", {"train": ids[:1], "val": ids[1:2], "test": ids[2:]})
    with pytest.raises(ValueError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=W, height=H))
    text = str(err.value)
    assert "merged_masks" not in text, text
    he = tmp_path / "data" / FOLDERS[1] / "IDRiD_00_HE.tif"
    assert f"IDRiD_00.jpg is {W}x{H} but its mask (merged from " in text and str(he) in text
