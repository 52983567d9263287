"""`unet unstack` of arrays (.npy, .npz, .h5): PanNuke folds, CREMI and Lucchi++ volumes, Kaggle
kernels' X/Y files; one file per index along an axis, values kept, PanNuke's one-hot instance
channels as a class map."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cli import main
from unet.dataset.layout import Layout
from unet.dataset.pairing import pair_files


def _read(path) -> np.ndarray:
    return tifffile.imread(path) if path.suffix == ".tif" else np.asarray(Image.open(path))


def _unstack(capsys, *args) -> str:
    code = main(["unstack", *map(str, args)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _refused(capsys, *args) -> str:
    """The one-line error `unet unstack` exits 2 with."""
    assert main(["unstack", *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


def _pannuke(n=3, rng=None):
    """PanNuke's layout: images N x H x W x 3 float64 0-255, masks N x H x W x 6 float64
    (instance ids of five nucleus types, channel 5 background)."""
    rng = rng or np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 8, 9, 3)).astype(np.float64)
    masks = np.zeros((n, 8, 9, 6))
    masks[:, :, :, 5] = 1
    for k in range(n):
        masks[k, 1:3, 1:3, k % 5] = 7 + k  # a nucleus of type k % 5, instance id 7 + k
        masks[k, 5:7, 4:8, 4] = 3  # an epithelial nucleus
        masks[k, 1:3, 1:3, 5] = masks[k, 5:7, 4:8, 5] = 0
    return images, masks


def test_npy_uint8_one_file_per_index(tmp_path, capsys):
    vol = np.random.default_rng(1).integers(0, 256, (3, 5, 6), dtype=np.uint8)
    np.save(tmp_path / "vol.npy", vol)
    _unstack(capsys, tmp_path / "vol.npy", tmp_path / "out")
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["vol_000.png", "vol_001.png", "vol_002.png"]
    for k, f in enumerate(files):
        arr = _read(f)
        assert arr.dtype == np.uint8 and np.array_equal(arr, vol[k])


def test_float_images_whole_0_255_are_rgb_uint8_png(tmp_path, capsys):
    images, _ = _pannuke()
    np.save(tmp_path / "images.npy", images)
    _unstack(capsys, tmp_path / "images.npy", tmp_path / "out", "--name", "fold1")
    f = tmp_path / "out" / "fold1_001.png"
    assert Image.open(f).mode == "RGB"
    assert np.array_equal(_read(f), images[1].astype(np.uint8))


def test_fractional_floats_are_float32_tiff(tmp_path, capsys):
    vol = np.random.default_rng(2).random((2, 4, 5))
    np.save(tmp_path / "p.npy", vol)
    _unstack(capsys, tmp_path / "p.npy", tmp_path / "out")
    arr = _read(tmp_path / "out" / "p_001.tif")
    assert arr.dtype == np.float32 and np.allclose(arr, vol[1])


def test_npz_keys_pair_as_images_and_masks(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    y = (rng.random((4, 6, 6, 1)) > 0.5).astype(np.float32)  # Keras masks: float, a channel
    np.savez_compressed(tmp_path / "train.npz", X=x, Y=y)
    _unstack(capsys, tmp_path / "train.npz", tmp_path / "d" / "images", "--key", "X")
    _unstack(capsys, tmp_path / "train.npz", tmp_path / "d" / "masks", "--key", "Y")
    pairs = pair_files(tmp_path / "d", Layout())
    assert [p[0] for p in pairs] == [f"train_{k:03d}" for k in range(4)]
    mask = _read(pairs[2][2])
    assert mask.dtype == np.uint8 and np.array_equal(mask, y[2, :, :, 0].astype(np.uint8))


def test_npz_key_missing_or_ambiguous_is_refused_naming_keys(tmp_path, capsys):
    np.savez(tmp_path / "a.npz", X=np.zeros((2, 3, 3)), Y=np.zeros((2, 3, 3)))
    err = _refused(capsys, tmp_path / "a.npz", tmp_path / "o")
    assert re.search(r"'X', 'Y'.*--key", err) and "cut short" not in err  # a key, no damage
    err = _refused(capsys, tmp_path / "a.npz", tmp_path / "o", "--key", "Z")
    assert re.search(r"'Z'.*'X', 'Y'", err) and "cannot read" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_axis_picks_the_slicing_axis(tmp_path, capsys):
    vol = np.arange(4 * 3 * 5, dtype=np.uint16).reshape(4, 3, 5) * 300
    np.save(tmp_path / "v.npy", vol)
    _unstack(capsys, tmp_path / "v.npy", tmp_path / "out", "--axis", "1")
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 3
    arr = _read(files[2])
    assert arr.dtype == np.uint16 and np.array_equal(arr, vol[:, 2, :])


def test_channels_first_is_refused(tmp_path, capsys):
    np.save(tmp_path / "c.npy", np.zeros((2, 3, 16, 16), np.uint8))
    assert "channels first" in _refused(capsys, tmp_path / "c.npy", tmp_path / "o")


def test_npy_is_memory_mapped(tmp_path, monkeypatch):
    from unet.dataset import arrays

    np.save(tmp_path / "v.npy", np.zeros((2, 3, 3), np.uint8))
    modes = []
    real = np.load

    def load(*args, **kwargs):
        modes.append(kwargs.get("mmap_mode"))
        return real(*args, **kwargs)

    monkeypatch.setattr(arrays.np, "load", load)
    arrays.unstack_array(tmp_path / "v.npy", tmp_path / "o")
    assert modes and all(m == "r" for m in modes)


def test_slices_are_read_one_at_a_time():
    from unet.dataset.arrays import slices

    class Recorder:
        shape, dtype, ndim = (4, 3, 2), np.dtype(np.uint8), 3

        def __init__(self):
            self.asked = []

        def __getitem__(self, index):
            self.asked.append(index)
            return np.zeros((3, 2) if index[0] != slice(None) else (4, 2), np.uint8)

    rec = Recorder()
    assert len(list(slices(rec, 0))) == 4
    assert len(list(slices(rec, 1))) == 3
    assert all(sum(not isinstance(i, slice) for i in idx) == 1 for idx in rec.asked)


def test_pannuke_one_hot_channels_to_class_map(tmp_path, capsys):
    images, masks = _pannuke(n=3)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "masks.npy", masks)
    _unstack(capsys, tmp_path / "images.npy", tmp_path / "d" / "images", "--name", "fold1")
    _unstack(capsys, tmp_path / "masks.npy", tmp_path / "d" / "masks", "--name", "fold1",
             "--classes", "channels", "--background", "5")
    pairs = pair_files(tmp_path / "d", Layout())
    assert [p[0] for p in pairs] == ["fold1_000", "fold1_001", "fold1_002"]
    m = _read(pairs[1][2])
    assert pairs[1][2].suffix == ".png" and m.dtype == np.uint8
    assert m[1, 1] == 2 and m[5, 5] == 5 and m[0, 0] == 0  # channel 1 -> 2, channel 4 -> 5
    assert set(np.unique(m)) == {0, 2, 5}


def test_class_overlap_goes_to_the_first_channel_and_is_reported(tmp_path, capsys):
    _, masks = _pannuke(n=2)
    masks[0, 5, 5, 0] = 9  # the same pixel in the neoplastic and the epithelial channel
    np.save(tmp_path / "masks.npy", masks)
    out = _unstack(capsys, tmp_path / "masks.npy", tmp_path / "m", "--classes", "channels",
                   "--background", "5")
    assert "1 pixel" in out and "masks_000" in out
    assert _read(tmp_path / "m" / "masks_000.png")[5, 5] == 1


def test_background_out_of_range_is_refused(tmp_path, capsys):
    np.save(tmp_path / "m.npy", np.zeros((1, 4, 4, 6)))
    assert "--background 6" in _refused(capsys, tmp_path / "m.npy", tmp_path / "o", "--classes",
                                        "channels", "--background", "6")


def test_existing_files_are_never_overwritten(tmp_path, capsys):
    np.save(tmp_path / "v.npy", np.ones((2, 3, 3), np.uint8))
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "v_001.png").write_bytes(b"mine")
    assert "v_001.png exists" in _refused(capsys, tmp_path / "v.npy", tmp_path / "o")
    assert (tmp_path / "o" / "v_001.png").read_bytes() == b"mine"
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["v_001.png"]


def test_hdf5_cremi_raw_and_neuron_ids(tmp_path, capsys):
    h5py = pytest.importorskip("h5py", reason="pip install -e '.[hdf5]'")
    raw = np.random.default_rng(4).integers(0, 256, (3, 6, 7), dtype=np.uint8)
    ids = np.zeros((3, 6, 7), np.uint64)
    ids[:, 2:4, 2:5] = 70000  # above 16 bits: a uint32 TIFF
    with h5py.File(tmp_path / "sample_A.hdf5", "w") as f:
        f["volumes/raw"] = raw
        f["volumes/labels/neuron_ids"] = ids
    _unstack(capsys, tmp_path / "sample_A.hdf5", tmp_path / "d" / "images", "--key",
             "volumes/raw")
    _unstack(capsys, tmp_path / "sample_A.hdf5", tmp_path / "d" / "masks", "--key",
             "volumes/labels/neuron_ids")
    pairs = pair_files(tmp_path / "d", Layout(mask_extensions=[".tif"]))
    assert len(pairs) == 3 and np.array_equal(_read(pairs[1][1]), raw[1])
    labels = _read(pairs[1][2])
    assert labels.dtype == np.uint32 and np.array_equal(labels, ids[1])


def test_uint64_beyond_32_bits_is_refused_naming_the_max(tmp_path, capsys):
    ids = np.zeros((2, 3, 3), np.uint64)
    ids[1, 1, 1] = 2**40
    np.save(tmp_path / "ids.npy", ids)
    assert f"max {2**40}" in _refused(capsys, tmp_path / "ids.npy", tmp_path / "o")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_uint64_ids_that_fit_are_narrowed(tmp_path, capsys):
    ids = np.zeros((2, 3, 3), np.uint64)
    ids[1, 1, 1] = 300
    np.save(tmp_path / "ids.npy", ids)
    _unstack(capsys, tmp_path / "ids.npy", tmp_path / "o")
    arr = _read(tmp_path / "o" / "ids_001.png")
    assert arr.dtype == np.uint16 and np.array_equal(arr, ids[1])


def test_hdf5_without_h5py_names_the_extra(tmp_path, capsys, monkeypatch):
    (tmp_path / "s.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py raises ImportError
    err = _refused(capsys, tmp_path / "s.h5", tmp_path / "o")
    assert "s.h5" in err and ".[hdf5]" in err


def test_array_flags_on_a_tiff_are_refused(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "st.tif", np.zeros((2, 4, 4), np.uint8))
    assert "--key" in _refused(capsys, tmp_path / "st.tif", tmp_path / "o", "--key", "X")


def test_a_background_channel_without_background_is_refused(tmp_path, capsys):
    """PanNuke's masks unstacked without --background wrote its background channel as class 6
    and no pixel 0, so the pipeline read neoplastic (1) as its background class."""
    _, masks = _pannuke(n=3)
    np.save(tmp_path / "masks.npy", masks)
    err = _refused(capsys, tmp_path / "masks.npy", tmp_path / "m", "--classes", "channels")
    assert "--background 5" in err and "channel 5" in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
    np.save(tmp_path / "types.npy", masks[..., :5])  # the type channels alone: 0 between
    _unstack(capsys, tmp_path / "types.npy", tmp_path / "t", "--classes", "channels")
    assert set(np.unique(_read(tmp_path / "t" / "types_000.png"))) == {0, 1, 5}
    one_hot = np.zeros((2, 4, 4, 3))  # three classes that cover every pixel: name one 0
    one_hot[:, :2, :, 0] = one_hot[:, 2:, :2, 1] = one_hot[:, 2:, 2:, 2] = 1
    np.save(tmp_path / "full.npy", one_hot)
    assert "--background 0" in _refused(capsys, tmp_path / "full.npy", tmp_path / "f",
                                        "--classes", "channels")
    _unstack(capsys, tmp_path / "full.npy", tmp_path / "f", "--classes", "channels",
             "--background", "0")
    assert set(np.unique(_read(tmp_path / "f" / "full_000.png"))) == {0, 1, 2}
