"""Masks are written at the bit depth of the data's own: 16-bit label TIFFs (microscopy's usual
uint16, even for values 0/1) come back as 16-bit PNGs whatever the prediction holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.labels import mapping_from_meta
from unet.model.checkpoint import model_record


def _dataset(root: Path, values: tuple[int, int], dtype) -> Path:
    pairs = []
    for i in range(6):
        mask = np.zeros((20, 24), dtype)
        mask[4 + i : 12, 5:15] = values[1]
        img = np.random.default_rng(i).integers(0, 255, (20, 24), np.uint8)
        Image.fromarray(img).save(root / f"i{i}.png")
        tifffile.imwrite(root / f"m{i}.tif", mask)
        pairs.append({"id": f"p{i}", "image": str(root / f"i{i}.png"),
                      "mask": str(root / f"m{i}.tif"), "size": [24, 20]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:5], "test": ids[5:]})
    return root


@pytest.mark.parametrize(("values", "dtype", "mode"), [
    ((0, 1), np.uint16, "I;16"),  # 16-bit file, small values: still 16-bit
    ((0, 1000), np.uint16, "I;16"),
    ((0, 1), np.uint8, "L"),
])
@pytest.mark.parametrize("explicit", [False, True])
def test_written_masks_keep_the_datas_bit_depth(tmp_path, values, dtype, mode, explicit):
    root = _dataset(tmp_path, values, dtype)
    settings = PreprocessSettings(width=24, height=20,
                                  mask_values=values if explicit else None)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)
    # Through the checkpoint, as prediction and `unet predict` rebuild the mapping.
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    mapping = mapping_from_meta(record)
    for name, index in (("empty", np.zeros((20, 24), np.uint8)),
                        ("mixed", np.eye(20, 24, dtype=np.uint8))):
        out = tmp_path / f"{name}.png"
        mapping.write(out, index)
        with Image.open(out) as im:
            assert im.mode == mode, (name, im.mode)
            assert set(np.unique(np.asarray(im)).tolist()) <= set(values)


@pytest.mark.parametrize("explicit", [False, True])
def test_values_no_png_holds_are_refused_before_training(tmp_path, explicit):
    # int32 label TIFFs of 0/70000 trained, then every prediction stopped with an
    # OverflowError: a mask PNG holds 0-65535.
    from unet.common.labels import MaskValueError

    root = _dataset(tmp_path, (0, 70000), np.int32)
    settings = PreprocessSettings(width=24, height=20,
                                  mask_values=(0, 70000) if explicit else None)
    with pytest.raises(MaskValueError, match=r"70000.*0-65535.*m\d\.tif"):
        preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)


def test_full_scale_of_two_depths_is_refused_with_the_merge(tmp_path):
    # Binary masks saved partly as 8-bit 0/255 and partly as 16-bit 0/65535 became three
    # classes, written at the first mask's 8 bits, and the warning advised ignoring 65535:
    # half of the foreground.
    from unet.common.labels import MaskValueError

    root = _dataset(tmp_path, (0, 65535), np.uint16)
    for i in range(0, 6, 2):
        mask = tifffile.imread(root / f"m{i}.tif")
        tifffile.imwrite(root / f"m{i}.tif", (mask // 257).astype(np.uint8))
    settings = PreprocessSettings(width=24, height=20)
    merge = r"255.*m0\.tif.*65535.*m1\.tif.*\[0, \[255, 65535\]\]"
    with pytest.raises(MaskValueError, match=merge):
        preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20, mask_values=(0, (255, 65535))))
    assert meta["mask_bits"] == 16


@pytest.mark.parametrize("threshold", [0, 0.5])
def test_threshold_binarises_soft_float_masks(tmp_path, threshold):
    # Blurred float TIFF masks were refused as "not whole numbers ... thresholding the soft
    # values first" although masks.threshold was set: the threshold never saw them.
    root = _dataset(tmp_path, (0, 1), np.float32)
    yy, xx = np.mgrid[:20, :24]
    soft = np.clip(6.5 - np.hypot(yy - 10, xx - 12), 0, 1).astype(np.float32)
    for i in range(6):
        tifffile.imwrite(root / f"m{i}.tif", soft)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20, mask_threshold=threshold))
    masks = np.load(root / "cache" / "train_masks.npy")
    assert meta["class_values"] == [0, 255]
    assert np.array_equal(masks[0], (soft > threshold).astype(np.uint8))


@pytest.mark.parametrize(("suffix", "mixed"), [(".png", False), (".tif", False), (".png", True)])
def test_one_bit_masks_are_written_one_bit(tmp_path, suffix, mixed):
    # 1-bit PNG and TIFF masks (bool arrays as scikit-image and tifffile save them) came back
    # as 8-bit 0/255 PNGs: numpy read the data as False/True and the predictions as 0/255.
    root = _dataset(tmp_path, (0, 1), np.uint8)
    for i in range(6):
        mask = tifffile.imread(root / f"m{i}.tif").astype(bool)
        Image.fromarray(mask).save(root / f"m{i}{suffix}")
    manifest = root / "manifest.json"
    manifest.write_text(manifest.read_text().replace(".tif", suffix))
    if mixed:  # one 8-bit mask among them: written 8-bit, as it holds
        Image.fromarray(np.zeros((20, 24), np.uint8)).save(root / "m5.png")
    meta = preprocess(manifest, root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20))
    mapping = mapping_from_meta(model_record({}, {}, meta, {}, 1, None, [], ""))
    mapping.write(tmp_path / "out.png", np.eye(20, 24, dtype=np.uint8))
    with Image.open(tmp_path / "out.png") as im:
        assert im.mode == ("L" if mixed else "1")
        assert np.array_equal(np.asarray(im.convert("L")), 255 * np.eye(20, 24, dtype=np.uint8))


def test_a_negative_value_is_offered_as_the_ignore_value(tmp_path):
    # int16 label TIFFs with -1 on unlabelled pixels were told only to merge -1 into a class
    # (masks.values: [..., [1, -1]]): followed, every unlabelled pixel trained as class 1.
    from unet.common.labels import MaskValueError

    root = _dataset(tmp_path, (0, 1), np.int16)
    for i in range(6):
        mask = tifffile.imread(root / f"m{i}.tif")
        mask[:2] = -1
        tifffile.imwrite(root / f"m{i}.tif", mask)
    with pytest.raises(MaskValueError, match=r"-1.*m0\.tif.*masks\.ignore: -1"):
        preprocess(root / "manifest.json", root / "split.json", root / "cache",
                   PreprocessSettings(width=24, height=20))
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20, mask_ignore=-1))
    assert meta["class_values"] == [0, 1]


def test_one_bit_masks_beside_a_0_1_mask_are_refused_with_the_merge(tmp_path):
    # One mask saved 8-bit 0/1 among 1-bit ones (read 0/255) made three classes 0, 1 and 255,
    # with the advice to ignore 255: every 1-bit mask's foreground.
    from unet.common.labels import MaskValueError

    root = _dataset(tmp_path, (0, 1), np.uint8)
    for i in range(6):
        mask = tifffile.imread(root / f"m{i}.tif")
        Image.fromarray(mask if i == 5 else mask.astype(bool)).save(root / f"m{i}.png")
    manifest = root / "manifest.json"
    manifest.write_text(manifest.read_text().replace(".tif", ".png"))
    with pytest.raises(MaskValueError, match=r"m5.png.*masks.values: \[0, \[255, 1\]\]"):
        preprocess(manifest, root / "split.json", root / "cache",
                   PreprocessSettings(width=24, height=20))
    meta = preprocess(manifest, root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20, mask_values=(0, (255, 1))))
    assert meta["class_values"] == [0, 255]


def test_one_bit_masks_beside_colour_masks_are_not_taken_for_a_0_1_set(tmp_path):
    # Colour masks (red on black) beside a 1-bit one were refused as 1-bit masks beside grey
    # 0/16711680 masks, advising masks.values: [0, [255, 16711680]], which is no grey value
    # and no colour of theirs; the colours are read as colours, as before that check.
    root = _dataset(tmp_path, (0, 1), np.uint8)
    for i in range(6):
        mask = tifffile.imread(root / f"m{i}.tif").astype(bool)
        if i == 5:
            Image.fromarray(mask).save(root / f"m{i}.png")
        else:
            rgb = np.zeros((*mask.shape, 3), np.uint8)
            rgb[mask, 0] = 255
            Image.fromarray(rgb).save(root / f"m{i}.png")
    manifest = root / "manifest.json"
    manifest.write_text(manifest.read_text().replace(".tif", ".png"))
    meta = preprocess(manifest, root / "split.json", root / "cache",
                      PreprocessSettings(width=24, height=20))
    assert meta["num_classes"] == 3  # black, red and the 1-bit mask's white, as detected
