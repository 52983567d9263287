"""`unet unstack` of NIfTI keeps a volume's stored width: a volume stored wider than 8 bits is
never written as 8-bit slices, whatever range its values happen to span, so that the cases of
one scanner share one depth (8-bit images are read as they are, wider ones scaled)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.conftest import slices
from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")


def _save(path, data: np.ndarray, slope=None, inter=None) -> None:
    img = nib.Nifti1Image(data, np.diag([-0.8, -0.8, 2.5, 1.0]))
    if slope is not None:
        img.header.set_slope_inter(slope, inter)
    nib.save(img, path)


def _slices(volume, out, capsys, *more) -> list:
    assert main(["unstack", str(volume), *map(str, more), str(out)]) == 0, \
        capsys.readouterr().err
    return slices(out)


def _mr(high: int, seed: int) -> np.ndarray:
    """A 12-bit MR case stored int16, its values 0..high."""
    return np.random.default_rng(seed).integers(0, high + 1, (6, 5, 3)).astype(np.int16)


def test_int16_cases_of_one_scanner_get_one_depth_whatever_their_range(tmp_path, capsys):
    # A dim case whose values all fit 0-255 became 8-bit PNGs, read as they are, beside 16-bit
    # cases scaled by the data set's range: one tissue at two grey levels.
    dim, bright = _mr(200, 0), _mr(3000, 1)
    _save(tmp_path / "prostate_00.nii.gz", dim)
    _save(tmp_path / "prostate_01.nii.gz", bright)
    for name, volume in (("prostate_00", dim), ("prostate_01", bright)):
        for k, path in enumerate(_slices(tmp_path / f"{name}.nii.gz", tmp_path / name, capsys)):
            with Image.open(path) as im:
                assert path.suffix == ".png" and im.mode == "I;16", (path.name, im.mode)
            got = np.asarray(Image.open(path))
            assert got.dtype == np.uint16 and np.array_equal(got, volume[:, :, k].T), path.name


@pytest.mark.parametrize(("dtype", "ext", "want"), [
    (np.uint16, ".png", np.uint16), (np.int32, ".png", np.uint16),
    (np.float32, ".png", np.uint8),  # whole floats: labels saved as float, narrowest as today
    (np.uint8, ".png", np.uint8), (np.int8, ".png", np.uint8),
])
def test_stored_width_is_a_floor_of_16_bits_past_8(tmp_path, capsys, dtype, ext, want):
    labels = np.random.default_rng(2).integers(0, 3, (4, 5, 2)).astype(dtype)
    _save(tmp_path / "case_1.nii.gz", labels)
    for k, path in enumerate(_slices(tmp_path / "case_1.nii.gz", tmp_path / "out", capsys)):
        got = np.asarray(Image.open(path))
        assert path.suffix == ext and got.dtype == want, (path.name, got.dtype)
        assert np.array_equal(got, labels[:, :, k].T), path.name


def test_signed_and_scaled_int16_volumes_keep_their_values(tmp_path, capsys):
    ct = np.random.default_rng(3).integers(-50, 100, (4, 5, 2)).astype(np.int16)
    _save(tmp_path / "ct_1.nii.gz", ct)  # below 0: int16 TIFF, as before
    for k, path in enumerate(_slices(tmp_path / "ct_1.nii.gz", tmp_path / "a", capsys)):
        got = tifffile.imread(path)
        assert got.dtype == np.int16 and np.array_equal(got, ct[:, :, k].T), path.name
    raw = np.random.default_rng(4).integers(0, 100, (4, 5, 2)).astype(np.int16)
    _save(tmp_path / "mr_1.nii.gz", raw, slope=2, inter=10)  # scaled, 10..208: still 16-bit
    for k, path in enumerate(_slices(tmp_path / "mr_1.nii.gz", tmp_path / "b", capsys)):
        got = np.asarray(Image.open(path))
        assert got.dtype == np.uint16 and np.array_equal(got, raw[:, :, k].T * 2 + 10)


def test_joined_modalities_keep_the_widest_stored(tmp_path, capsys):
    # BraTS: a uint8 and an int16 modality of small values joined: 16-bit channels
    small = np.random.default_rng(5).integers(0, 200, (4, 5, 2))
    _save(tmp_path / "c_t1.nii.gz", small.astype(np.uint8))
    _save(tmp_path / "c_t2.nii.gz", small.astype(np.int16))
    written = _slices(tmp_path / "c_t1.nii.gz", tmp_path / "out", capsys, tmp_path / "c_t2.nii.gz")
    for k, path in enumerate(written):
        got = tifffile.imread(path)
        assert got.dtype == np.uint16 and np.array_equal(got[..., 1], small[:, :, k].T)


def test_int16_label_slices_are_read_as_the_same_classes_as_uint8_ones(tmp_path, capsys):
    # KiTS and some Decathlon cases store labels int16, others uint8: 16-bit and 8-bit PNG masks
    # of 0/1/2 in one data set are one set of classes, not refused as two depths' full scales.
    from unet.cache.preprocess import preprocess
    from unet.cache.settings import PreprocessSettings
    from unet.common.fileio import write_json

    pairs = []
    for case, dtype in (("kits_0", np.uint8), ("kits_1", np.int16), ("kits_2", np.int16)):
        labels = np.zeros((24, 20, 2), dtype)
        labels[4:14, 3:12] = 1
        labels[6:9, 5:8] = 2
        image = np.random.default_rng(0).integers(-200, 300, labels.shape).astype(np.int16)
        _save(tmp_path / f"{case}_img.nii.gz", image)
        _save(tmp_path / f"{case}.nii.gz", labels)
        masks = _slices(tmp_path / f"{case}.nii.gz", tmp_path / case, capsys)
        images = _slices(tmp_path / f"{case}_img.nii.gz", tmp_path / f"{case}_img", capsys)
        with Image.open(masks[0]) as im:
            assert im.mode == ("L" if dtype == np.uint8 else "I;16"), (case, im.mode)
        pairs += [{"id": m.stem, "image": str(i), "mask": str(m), "size": [24, 20]}
                  for i, m in zip(images, masks, strict=True)]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:5], "test": ids[5:]})
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(width=24, height=20))
    assert meta["class_values"] == [0, 1, 2] and meta["num_classes"] == 3, meta["class_values"]
    assert meta["mask_bits"] == 16  # predictions written as the widest training masks
