"""`unet unstack` of Synapse (BTCV) as TransUNet ships it: a .npz a 2-D slice (image, label)
and a case's test volume as case0001.npy.h5."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cli import main


def _slice(path, seed: int) -> None:
    """One of train_npz's slices: HU clipped to [-125, 275] scaled to [0, 1]; organ ids 0..8."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 9, (8, 8)).astype(np.float32)  # TransUNet saves them as float32
    np.savez(path, image=rng.random((8, 8), dtype=np.float32), label=label)


def test_npy_h5_volume_is_named_by_its_case(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    vol = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5) % 9
    with h5py.File(tmp_path / "case0001.npy.h5", "w") as f:
        f["image"], f["label"] = vol / 9, vol
    assert main(["unstack", str(tmp_path / "case0001.npy.h5"), str(tmp_path / "m"),
                 "--key", "label"]) == 0
    # test_vol.txt names the case case0001: its slices pair with group_by '^(.+)_\d+$' as it
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["case0001_000.png", "case0001_001.png", "case0001_002.png"], names
    assert np.array_equal(np.asarray(Image.open(tmp_path / "m" / names[1])), vol[1])
    capsys.readouterr()


def test_several_npz_slices_in_one_call(tmp_path, capsys):
    files = [tmp_path / f"case0005_slice{k:03d}.npz" for k in range(3)]
    for k, f in enumerate(files):
        _slice(f, k)
    # 2211 train slices one call each start Python 4422 times: one call takes them all
    assert main(["unstack", *map(str, files), str(tmp_path / "images"), "--key", "image"]) == 0
    assert main(["unstack", *map(str, files), str(tmp_path / "masks"), "--key", "label"]) == 0
    out = capsys.readouterr().out
    assert "3 images written" in out, out
    for f in files:
        stem = f.stem
        got = tifffile.imread(tmp_path / "images" / f"{stem}.tif")
        assert np.array_equal(got, np.load(f)["image"])  # the [0, 1] floats as given
        mask = np.asarray(Image.open(tmp_path / "masks" / f"{stem}.png"))
        assert mask.dtype == np.uint8 and np.array_equal(mask, np.load(f)["label"])


def test_several_arrays_with_one_name_are_refused(tmp_path, capsys):
    files = [tmp_path / f"s{k}.npz" for k in range(2)]
    for k, f in enumerate(files):
        _slice(f, k)
    args = ["unstack", *map(str, files), str(tmp_path / "o"), "--key", "image", "--name", "c"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--name" in err and "one array file" in err, err
    assert not (tmp_path / "o").exists()


def test_two_arrays_of_one_stem_are_refused_before_any_is_written(tmp_path, capsys):
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
        _slice(tmp_path / part / "s.npz", 0)
    args = ["unstack", str(tmp_path / "a" / "s.npz"), str(tmp_path / "b" / "s.npz"),
            str(tmp_path / "o"), "--key", "image"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "a/s.npz and " in err and "b/s.npz" in err and "'s'" in err, err
    assert not (tmp_path / "o").exists()


def test_a_blank_slice_is_written_as_its_neighbours(tmp_path, capsys):
    files = [tmp_path / f"case0005_slice{k:03d}.npz" for k in range(3)]
    for k, f in enumerate(files):
        _slice(f, k)
    # a slice of air: HU clipped to -125 is 0 everywhere, and one of 0s and 1s
    for f, blank in zip(files[1:], (np.zeros((8, 8)), np.eye(8)), strict=True):
        np.savez(f, image=blank.astype(np.float32), label=np.zeros((8, 8), np.float32))
    assert main(["unstack", *map(str, files), str(tmp_path / "images"), "--key", "image"]) == 0
    assert main(["unstack", *map(str, files), str(tmp_path / "masks"), "--key", "label"]) == 0
    capsys.readouterr()
    # as a uint8 PNG beside float TIFFs a slice of 1s was read as 1/255 of the range
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [f"{f.stem}.tif"
                                                                       for f in files]
    for f in files:
        got = tifffile.imread(tmp_path / "images" / f"{f.stem}.tif")
        assert got.dtype == np.float32 and np.array_equal(got, np.load(f)["image"]), f
        mask = np.asarray(Image.open(tmp_path / "masks" / f"{f.stem}.png"))
        assert mask.dtype == np.uint8 and np.array_equal(mask, np.load(f)["label"]), f


def test_an_array_file_of_no_numbers_is_refused_before_any_is_written(tmp_path, capsys):
    files = [tmp_path / f"case0005_slice{k:03d}.npz" for k in range(2)]
    _slice(files[0], 0)
    np.savez(files[1], image=np.array([["a", "b"], ["c", "d"]]))
    assert main(["unstack", *map(str, files), str(tmp_path / "o"), "--key", "image"]) == 2
    err = capsys.readouterr().err
    assert "case0005_slice001.npz" in err and "numbers" in err, err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_class_maps_of_a_file_missing_the_key_write_nothing(tmp_path, capsys):
    # README: all are read before any is written, so a missing --key writes nothing; with
    # --classes (no joint type read) the files before it were written
    masks = np.zeros((2, 8, 8, 3), np.uint8)
    masks[:, :4, :, 0], masks[:, 4:, :, 2] = 1, 1
    np.savez(tmp_path / "a.npz", masks=masks)
    np.savez(tmp_path / "b.npz", other=masks)
    out = tmp_path / "o"
    assert main(["unstack", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), str(out),
                 "--key", "masks", "--classes", "channels", "--background", "2"]) == 2
    assert "b.npz has no array 'masks'" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
