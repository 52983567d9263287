"""`unet unstack` of MATLAB `.mat` labels (HoVer-Net's CoNSeP, Lizard): v5 and v7.3 (HDF5,
column-major), a 2-D array as one file, an instance map's classes from a per-instance vector."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from PIL import Image

from tests.test_unstack_arrays import _refused, _unstack

h5py = pytest.importorskip("h5py")


def _scene(rng, h=20, w=30, n=6):
    """An instance map (float64 ids 1..n, as CoNSeP's inst_map) and each instance's type."""
    inst = np.zeros((h, w))
    for i in range(1, n + 1):
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 4)
        inst[y:y + 4, x:x + 4] = i
    present = np.unique(inst[inst > 0]).astype(int)
    types = np.zeros(n + 1, int)
    types[present] = rng.integers(1, 8, len(present))
    return inst, types


def _save_v73(path, arrays: dict) -> None:
    """As MATLAB -v7.3 writes: a 128-byte MAT header in HDF5's user block, arrays column-major
    (an H x W array is stored W x H)."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=np.asarray(v).T)
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, HDF5 schema 1.00 .".ljust(116) + b" " * 8 + b"\x00\x02IM")


def test_v5_type_map_is_one_file_equal_to_the_array(tmp_path, capsys):
    inst, types = _scene(np.random.default_rng(0))
    type_map = types[inst.astype(int)].astype(np.float64)  # CoNSeP saves doubles
    scipy.io.savemat(tmp_path / "train_1.mat", {"inst_map": inst, "type_map": type_map})
    _unstack(capsys, tmp_path / "train_1.mat", tmp_path / "masks", "--key", "type_map")
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["train_1.png"]
    got = np.asarray(Image.open(tmp_path / "masks" / "train_1.png"))
    assert got.dtype == np.uint8 and np.array_equal(got, type_map)


def test_a_whole_2d_matrix_is_reported_as_the_image_written(tmp_path, capsys):
    # it read "1 slice written to masks (train_1.png)": no slice of anything was written
    scipy.io.savemat(tmp_path / "train_1.mat", {"type_map": np.ones((5, 6))})
    out = _unstack(capsys, tmp_path / "train_1.mat", tmp_path / "masks")
    assert out.strip() == f"1 image written: {tmp_path / 'masks' / 'train_1.png'}"
    np.save(tmp_path / "train_1.npy", np.ones((1, 5, 6), np.uint8))  # one slice of a stack
    assert "1 slice written" in _unstack(capsys, tmp_path / "train_1.npy", tmp_path / "s")


@pytest.mark.parametrize("v73", [False, True])
def test_an_empty_matrix_is_refused_by_name(tmp_path, capsys, v73):
    # v7.3 stores MATLAB's [] as its size, [0 0] (uint64, MATLAB_empty): it was read as a
    # vector of two values; v5's 0 x 0 failed on 'zero-size array to reduction operation'
    path = tmp_path / "a.mat"
    if v73:
        _save_v73(path, {"inst_map": np.ones((5, 4)), "type_map": np.zeros((2, 1), np.uint64)})
        with h5py.File(path, "r+") as f:
            f["type_map"].attrs["MATLAB_empty"] = np.uint8(1)
    else:
        scipy.io.savemat(path, {"inst_map": np.ones((5, 4)), "type_map": np.zeros((0, 0))})
    err = _refused(capsys, path, tmp_path / "m", "--key", "type_map")
    assert "a.mat" in err and "'type_map' is an empty matrix" in err and "(inst_map)" in err
    assert not (tmp_path / "m").exists()


def test_v73_is_read_through_h5py_and_transposed_back(tmp_path, capsys):
    inst, types = _scene(np.random.default_rng(1))
    type_map = types[inst.astype(int)]
    _save_v73(tmp_path / "test_2.mat", {"inst_map": inst, "type_map": type_map.astype(float)})
    _unstack(capsys, tmp_path / "test_2.mat", tmp_path / "masks", "--key", "type_map")
    got = np.asarray(Image.open(tmp_path / "masks" / "test_2.png"))
    assert got.shape == (20, 30) and np.array_equal(got, type_map)


def test_a_missing_key_lists_the_matrices_held(tmp_path, capsys):
    inst, _ = _scene(np.random.default_rng(2))
    scipy.io.savemat(tmp_path / "a.mat", {"inst_map": inst, "inst_type": np.ones((6, 1))})
    err = _refused(capsys, tmp_path / "a.mat", tmp_path / "m", "--key", "type_map")
    assert "a.mat" in err and "'inst_map'" in err and "'inst_type'" in err
    assert "__header__" not in err
    _save_v73(tmp_path / "b.mat", {"inst_map": inst})
    err = _refused(capsys, tmp_path / "b.mat", tmp_path / "m", "--key", "type_map")
    assert "b.mat" in err and "'inst_map'" in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_a_2d_npy_is_one_image_not_rows(tmp_path, capsys):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.save(tmp_path / "label.npy", a)
    _unstack(capsys, tmp_path / "label.npy", tmp_path / "o")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o" / "label.png")), a)


def _lizard(path, rng, ids=None, classes=None):
    inst, _ = _scene(rng)
    n = int(inst.max())
    ids = np.arange(1, n + 1) if ids is None else ids
    classes = rng.integers(1, 7, len(ids)) if classes is None else classes
    scipy.io.savemat(path, {"inst_map": inst.astype(np.int32), "id": ids.reshape(-1, 1),
                            "class": classes.reshape(-1, 1), "bbox": np.zeros((n, 4))})
    return inst.astype(int), ids, classes


def test_lizard_instances_become_their_class(tmp_path, capsys):
    rng = np.random.default_rng(3)
    # ids out of order: row k is not instance k + 1, so the `id` vector must be read
    inst, ids, classes = _lizard(tmp_path / "consep_1.mat", rng, ids=np.array([3, 1, 2, 6, 5, 4]))
    _unstack(capsys, tmp_path / "consep_1.mat", tmp_path / "masks", "--key", "inst_map",
             "--instance-classes", "class")
    want = np.zeros_like(inst)
    for i, c in zip(ids, classes, strict=True):
        want[inst == i] = c
    got = np.asarray(Image.open(tmp_path / "masks" / "consep_1.png"))
    assert np.array_equal(got, want)


def test_consep_inst_type_counts_ids_from_one(tmp_path, capsys):
    inst, types = _scene(np.random.default_rng(4))
    scipy.io.savemat(tmp_path / "t.mat", {"inst_map": inst, "inst_type": types[1:, None] * 1.0})
    _unstack(capsys, tmp_path / "t.mat", tmp_path / "m", "--key", "inst_map",
             "--instance-classes", "inst_type")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "m" / "t.png")),
                          types[inst.astype(int)])


def test_instance_classes_refuse_an_unknown_id_or_a_vector_of_another_length(tmp_path, capsys):
    rng = np.random.default_rng(5)
    _lizard(tmp_path / "a.mat", rng, ids=np.array([1, 2, 3, 4, 5, 9]))
    # an id a page holds: found while writing, it left the folder made for it, empty
    err = _refused(capsys, tmp_path / "a.mat", tmp_path / "m", "--key", "inst_map",
                   "--instance-classes", "class")
    assert "a.mat" in err and "6" in err and "'id'" in err
    assert not (tmp_path / "m").exists()
    _lizard(tmp_path / "b.mat", rng, classes=np.array([1, 2, 3]))
    err = _refused(capsys, tmp_path / "b.mat", tmp_path / "m", "--key", "inst_map",
                   "--instance-classes", "class")
    assert "b.mat" in err and "'class'" in err and "'id'" in err and "3" in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_a_per_instance_vector_is_refused_not_written_as_an_image(tmp_path, capsys):
    # --key class on a Lizard file wrote its N x 1 class vector as an N x 1 PNG
    _lizard(tmp_path / "a.mat", np.random.default_rng(6))
    err = _refused(capsys, tmp_path / "a.mat", tmp_path / "m", "--key", "class")
    assert "a.mat" in err and "(6, 1)" in err and "--instance-classes" in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


@pytest.mark.parametrize("v73", [False, True])
def test_an_int32_label_matrix_is_narrowed_to_an_8bit_png(tmp_path, capsys, v73):
    # MATLAB saves labels as double or int32 alike: int32 0..7 became an int32 TIFF beside
    # the double files' PNGs, one data set in two formats
    inst, types = _scene(np.random.default_rng(6))
    type_map = types[inst.astype(int)].astype(np.int32)
    save = _save_v73 if v73 else scipy.io.savemat
    save(tmp_path / "train_2.mat", {"type_map": type_map})
    _unstack(capsys, tmp_path / "train_2.mat", tmp_path / "masks")
    got = np.asarray(Image.open(tmp_path / "masks" / "train_2.png"))
    assert got.dtype == np.uint8 and np.array_equal(got, type_map)


@pytest.mark.parametrize("channels", [3, 4])
def test_one_colour_image_is_refused_not_split_into_rows(tmp_path, capsys, channels):
    # a .mat holding an RGB tile: axis 0 would write 20 "grey" files of 30 x 3 rows
    tile = np.random.default_rng(0).integers(0, 255, (20, 30, channels), dtype=np.uint8)
    scipy.io.savemat(tmp_path / "tile.mat", {"img": tile})
    (tmp_path / "out").mkdir()
    err = _refused(capsys, tmp_path / "tile.mat", tmp_path / "out", "--key", "img")
    assert "tile.mat" in err and f"(20, 30, {channels})" in err and "--axis 2" in err
    assert not list((tmp_path / "out").iterdir())


def test_instance_classes_on_a_npy_says_it_holds_no_vectors(tmp_path, capsys):
    np.save(tmp_path / "inst.npy", np.zeros((4, 5, 5), np.uint8))
    err = _refused(capsys, tmp_path / "inst.npy", tmp_path / "out", "--instance-classes",
                   "class")
    assert "inst.npy" in err and "per-instance" in err and ".npz" in err


def _save_v73_classed(path) -> None:
    """A v7.3 file as MATLAB writes a char, a cell and a struct beside a double inst_map."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("inst_map", data=np.ones((5, 4))).attrs["MATLAB_class"] = b"double"
        name = f.create_dataset("name", data=np.frombuffer("tile".encode("utf-16-le"),
                                                           np.uint16).reshape(4, 1))
        name.attrs["MATLAB_class"] = b"char"  # read as uint16 codes: was written as an image
        held = f.create_group("#refs#").create_dataset("a", data=np.ones((3, 3)))
        cell = f.create_dataset("cellv", data=np.array([[held.ref]], dtype=h5py.ref_dtype))
        cell.attrs["MATLAB_class"] = b"cell"
        st = f.create_group("st")
        st.attrs["MATLAB_class"] = b"struct"
        st.create_dataset("type_map", data=np.ones((5, 4)))
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, HDF5 schema 1.00 .".ljust(116) + b" " * 8 + b"\x00\x02IM")


@pytest.mark.parametrize("version", ["v5", "v7.3"])
@pytest.mark.parametrize("key,kind", [("name", "char"), ("cellv", "cell"), ("st", "struct")])
def test_a_char_cell_or_struct_is_refused_naming_its_class_and_the_numeric_keys(
        tmp_path, capsys, version, key, kind):
    path = tmp_path / "tile.mat"
    if version == "v5":
        scipy.io.savemat(path, {"inst_map": np.ones((5, 4)), "name": "tile", "cellv": np.array(
            [[np.ones(3)]], dtype=object), "st": {"type_map": np.ones((5, 4))}})
    else:
        _save_v73_classed(path)
    err = _refused(capsys, path, tmp_path / "m", "--key", key)
    assert f"'{key}' is a MATLAB {kind}" in err and "--key (inst_map)" in err, err
    assert "tile.mat" in err and "cut short" not in err
    assert ("'-struct', 'st'" in err) == (kind == "struct")
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_the_readme_s_consep_block_runs(tmp_path):
    # `cp ... consep/images/` into a folder nothing had made: cp refused, no image copied
    import re

    from tests.conftest import REPO
    from tests.test_volume_label_loops import _run

    block = re.search(r"```bash\n(for f in CoNSeP.*?)```", (REPO / "README.md").read_text(),
                      re.S).group(1)
    for part in ("Train", "Test"):
        (tmp_path / "CoNSeP" / part / "Labels").mkdir(parents=True)
        (tmp_path / "CoNSeP" / part / "Images").mkdir()
        name = f"{part.lower()}_1"
        scipy.io.savemat(tmp_path / "CoNSeP" / part / "Labels" / f"{name}.mat",
                         {"inst_map": np.ones((5, 6)), "type_map": np.full((5, 6), 2.0)})
        Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(
            tmp_path / "CoNSeP" / part / "Images" / f"{name}.png")
    _run(block, tmp_path)
    names = ["test_1.png", "train_1.png"]
    assert sorted(p.name for p in (tmp_path / "consep/images").iterdir()) == names
    assert sorted(p.name for p in (tmp_path / "consep/masks").iterdir()) == names
