"""Masks folders that differ from group to group: EndoVis 2017's instrument_dataset_<n>/
ground_truth/<Instrument>_labels/frame000.png, one grey part mask (10 shaft, 20 wrist,
30 claspers) per instrument per frame, the instruments differing between videos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 27, 48  # 1080x1920 over 40
FOLDERS = ("Bipolar_Forceps_labels", "Prograsp_Forceps_labels", "Needle_Driver_labels")
VIDEOS = {"instrument_dataset_1": (0, 1), "instrument_dataset_2": (1, 2)}  # folder numbers
LAYOUT = dict(images="{group}/left_frames",
              masks=tuple(f"{{group}}/ground_truth/{f}" for f in FOLDERS))


def _instrument(k: int, frame: int) -> np.ndarray:
    """Instrument k's part mask in a frame: a shaft, a wrist and claspers overlapping the next."""
    m = np.zeros((H, W), np.uint8)
    r, c = 3 + 6 * k + frame, 8 + 10 * k
    m[r:r + 8, c:c + 10] = 10
    m[r + 2:r + 6, c + 8:c + 14] = 20
    m[r + 3:r + 5, c + 12:c + 16] = 30
    return m


def _endovis(root) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Two videos of two frames; frame 1 of video 1 has no file for its second instrument
    (out of view). Returns each frame's (folder number from 1, part mask) in folder order."""
    parts = {}
    for video, folders in VIDEOS.items():
        (root / video / "left_frames").mkdir(parents=True)
        for frame in range(2):
            Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(
                root / video / f"left_frames/frame{frame:03d}.png")
            gid = f"{video}_frame{frame:03d}"
            parts[gid] = []
            for k in folders:
                folder = root / video / "ground_truth" / FOLDERS[k]
                folder.mkdir(parents=True, exist_ok=True)
                if (video, frame, k) == ("instrument_dataset_1", 1, 1):
                    continue
                m = _instrument(k, frame)
                Image.fromarray(m).save(folder / f"frame{frame:03d}.png")
                parts[gid].append((k + 1, m))
    return parts


def test_instrument_type_classes_where_groups_lack_folders(tmp_path):
    # Each video has only some of the instrument folders: a group missing one was passed
    # over, so with every video missing one the run stopped ("none has its masks folder").
    parts = _endovis(tmp_path / "data")
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data",
                              Layout(**LAYOUT, mask_folders="classes"))
    assert sorted(p["id"] for p in manifest["pairs"]) == sorted(parts)
    for pair in manifest["pairs"]:
        expected = np.zeros((H, W), np.uint8)
        for k, m in parts[pair["id"]]:  # by hand: the folder's class, the later one on top
            expected[m > 0] = k
        assert np.array_equal(np.asarray(Image.open(pair["mask"])), expected), pair["id"]


def test_part_labels_in_a_class_folder_keep_every_part(tmp_path):
    # A class folder's mask was thresholded at half its highest value: where claspers (30)
    # were drawn, the shaft (10) fell below 15 and became background.
    root = tmp_path / "data"
    for folder in ("images", "tool"):
        (root / folder).mkdir(parents=True)
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / "images/a.png")
    Image.fromarray(_instrument(0, 0)).save(root / "tool/a.png")
    manifest = write_manifest(tmp_path / "manifest.json", "local", root,
                              Layout(masks=("tool",), mask_folders="classes"))
    merged = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert np.array_equal(merged, (_instrument(0, 0) > 0).astype(np.uint8))


def test_a_lossy_class_mask_is_still_cut_at_half(tmp_path):
    # many grey levels (a JPEG's ringing, anti-aliased edges) are no labels: above half is on
    root = tmp_path / "data"
    for folder in ("images", "tool"):
        (root / folder).mkdir(parents=True)
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / "images/a.png")
    noisy = np.random.default_rng(0).integers(0, 40, (H, W)).astype(np.uint8)
    noisy[5:15, 5:20] = 250
    Image.fromarray(noisy).save(root / "tool/a.png")
    manifest = write_manifest(tmp_path / "manifest.json", "local", root,
                              Layout(masks=("tool",), mask_folders="classes"))
    merged = np.asarray(Image.open(manifest["pairs"][0]["mask"]))
    assert np.array_equal(merged, (noisy > 125).astype(np.uint8))


@pytest.mark.parametrize("missing_mask", ["unpaired", "empty"])
def test_united_folders_a_group_lacks_are_refused_by_name(tmp_path, missing_mask):
    # With missing_mask: empty every frame of a video lacking one of the united folders was
    # written all background, although its other folders held its instruments.
    _endovis(tmp_path / "data")
    layout = Layout(**LAYOUT, missing_mask=missing_mask)
    with pytest.raises(DataLayoutError, match=r"instrument_dataset_1.*Needle_Driver_labels"
                       r".*mask_folders: classes.*missing_part: absent"):
        write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data", layout)


def test_parts_unite_the_folders_a_group_has(tmp_path):
    # EndoVis's parts task (shaft 10, wrist 20, claspers 30 over every instrument) unites the
    # instrument folders, but every video lacks some of them: the run was refused, whatever
    # was set. missing_part: absent unites the files a frame has (video 1's frame 1 has no file
    # for its second instrument either).
    parts = _endovis(tmp_path / "data")
    layout = Layout(**LAYOUT, missing_part="absent")
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data", layout)
    assert sorted(p["id"] for p in manifest["pairs"]) == sorted(parts)
    mapping = MaskMapping((0, 10, 20, 30))  # masks.values: [0, 10, 20, 30]
    for pair in manifest["pairs"]:
        expected = np.zeros((H, W), np.uint8)
        for _, m in parts[pair["id"]]:  # by hand: the highest part where instruments overlap
            expected = np.where(m > expected, m, expected)
        assert np.array_equal(np.asarray(Image.open(pair["mask"])), expected), pair["id"]
        classes = mapping.read_index(pair["mask"])
        assert np.array_equal(classes, np.searchsorted([0, 10, 20, 30], expected)), pair["id"]
    assert {1, 2, 3} <= set(np.unique(classes))


def test_missing_part_absent_still_refuses_a_frame_with_no_part(tmp_path):
    # a frame none of whose folders has a file is no frame of absent parts: it is unpaired
    _endovis(tmp_path / "data")
    for f in (tmp_path / "data/instrument_dataset_2/ground_truth").glob("*/frame001.png"):
        f.unlink()
    layout = Layout(**LAYOUT, missing_part="absent")
    with pytest.raises(DataLayoutError, match=r"frame001.png.*allow_unpaired"):
        write_manifest(tmp_path / "manifest.json", "local", tmp_path / "data", layout)


def test_missing_part_absent_without_groups_unites_the_files_an_image_has(tmp_path):
    # outside {group} too: an image without a file in one united folder was refused (or, with
    # allow_unpaired, skipped whole); absent, the files it has are its mask
    root = tmp_path / "data"
    for folder in ("images", "left", "right"):
        (root / folder).mkdir(parents=True)
    for name in ("a", "b"):
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / f"images/{name}.png")
    Image.fromarray(_instrument(0, 0)).save(root / "left/a.png")
    Image.fromarray(_instrument(1, 0)).save(root / "right/a.png")
    Image.fromarray(_instrument(1, 1)).save(root / "right/b.png")
    layout = Layout(masks=("left", "right"), missing_part="absent")
    pairs = {p["id"]: p for p in write_manifest(tmp_path / "m.json", "local", root,
                                                 layout)["pairs"]}
    assert np.array_equal(np.asarray(Image.open(pairs["a"]["mask"])),
                          np.maximum(_instrument(0, 0), _instrument(1, 0)))
    assert np.array_equal(np.asarray(Image.open(pairs["b"]["mask"])), _instrument(1, 1))
