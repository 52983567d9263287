"""`unet unstack` of Zarr stores: OME-Zarr (OME-NGFF 0.4 and 0.5) images and their labels, a
file per plane with channels last, read a plane at a time; plain Zarr arrays as HDF5's."""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
import tifffile

from tests.conftest import REPO
from tests.test_unstack_arrays import _read, _refused, _unstack
from unet.dataset.layout import Layout
from unet.dataset.pairing import pair_files
from unet.dataset.split import groups_of

if os.environ.get("CI"):  # the test extra installs it: in CI these tests must run
    import zarr
else:
    zarr = pytest.importorskip("zarr", reason="pip install -e '.[zarr]'")

README = (REPO / "README.md").read_text()
_AXES = {"c": "channel", "t": "time", "z": "space", "y": "space", "x": "space"}


def _ome(path, image: np.ndarray, axes: str, labels: np.ndarray | None = None,
         fmt: int = 2) -> None:
    """An OME-Zarr image (levels 0 and 1, the second at half size) with labels/nuclei beside
    it, as a facility's export writes it (0.4: Zarr v2; 0.5: Zarr v3, attributes under ome)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt)
    _levels(root, image, axes, fmt)
    if labels is not None:
        group = root.create_group("labels")
        group.attrs.update(_wrap({"labels": ["nuclei"]}, fmt))
        nuclei = group.create_group("nuclei")
        _levels(nuclei, labels, axes.replace("c", ""), fmt)
        attrs = nuclei.attrs.asdict()
        attrs.get("ome", attrs)["image-label"] = {"source": {"image": "../../"}}
        nuclei.attrs.update(attrs)


def _levels(group, arr: np.ndarray, axes: str, fmt: int) -> None:
    datasets = []
    for level in range(2):
        step = (slice(None),) * (arr.ndim - 2) + (slice(None, None, 2 ** level),) * 2
        data = arr[step]
        group.create_array(str(level), data=data, chunks=(1,) * (arr.ndim - 2) + (8, 8))
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0] * (arr.ndim - 2) + [0.5 * 2 ** level] * 2}]})
    group.attrs.update(_wrap({"multiscales": [{"version": "0.5" if fmt == 3 else "0.4",
                              "axes": [{"name": a, "type": _AXES[a]} for a in axes],
                              "datasets": datasets}]}, fmt))


def _wrap(attrs: dict, fmt: int) -> dict:
    return {"ome": {"version": "0.5", **attrs}} if fmt == 3 else attrs


def _images(seed: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 65535, shape, dtype=np.uint16)
    labels = np.zeros(shape[1:], np.uint32)
    labels[..., 4:9, 3:11] = 70001  # above 16 bits: instance ids kept as uint32
    labels[..., 10:14, 10:15] = 2
    return image, labels


@pytest.mark.parametrize("fmt", [2, 3], ids=["ngff0.4", "ngff0.5"])
def test_an_ome_zarr_stack_and_its_labels_pair_plane_by_plane(tmp_path, capsys, fmt):
    image, labels = _images(0, (2, 3, 16, 16))  # c,z,y,x
    _ome(tmp_path / "cells.ome.zarr", image, "czyx", labels, fmt)
    _unstack(capsys, tmp_path / "cells.ome.zarr", tmp_path / "d" / "images")  # level 0
    _unstack(capsys, tmp_path / "cells.ome.zarr", tmp_path / "d" / "masks", "--key",
             "labels/nuclei")
    pairs = pair_files(tmp_path / "d", Layout(image_extensions=[".tif"],
                                              mask_extensions=[".tif"]))
    assert [p[0] for p in pairs] == ["cells_000", "cells_001", "cells_002"]
    page = tifffile.imread(pairs[1][1])
    assert page.dtype == np.uint16 and page.shape == (16, 16, 2)  # channels last
    assert np.array_equal(page, np.moveaxis(image[:, 1], 0, -1))
    mask = tifffile.imread(pairs[1][2])
    assert mask.dtype == np.uint32 and np.array_equal(mask, labels[1])


def test_one_plane_is_one_image_and_key_picks_a_level(tmp_path, capsys):
    image, labels = _images(1, (2, 16, 16))  # c,y,x
    _ome(tmp_path / "a.zarr", image, "cyx", labels)
    _unstack(capsys, tmp_path / "a.zarr", tmp_path / "i")
    _unstack(capsys, tmp_path / "a.zarr" / "labels" / "nuclei", tmp_path / "m")  # its group
    assert np.array_equal(tifffile.imread(tmp_path / "i" / "a.tif"), np.moveaxis(image, 0, -1))
    assert np.array_equal(tifffile.imread(tmp_path / "m" / "a.tif"), labels)
    _unstack(capsys, tmp_path / "a.zarr", tmp_path / "half", "--key", "1")
    assert tifffile.imread(tmp_path / "half" / "a.tif").shape == (8, 8, 2)
    grey, _ = _images(2, (1, 1, 16, 16))  # t,c of one index: a grey image
    _ome(tmp_path / "g.zarr", grey, "tcyx")
    _unstack(capsys, tmp_path / "g.zarr", tmp_path / "g")
    assert np.array_equal(_read(tmp_path / "g" / "g.png"), grey[0, 0])


def test_planes_are_read_one_at_a_time(tmp_path, monkeypatch):
    from unet.dataset.arrays import unstack_array

    image, _ = _images(3, (4, 2, 16, 16))  # z,c,y,x: any order of axes
    _ome(tmp_path / "v.zarr", image, "zcyx")
    asked, real = [], zarr.Array.__getitem__

    def getitem(self, index):
        asked.append(index)
        return real(self, index)

    monkeypatch.setattr(zarr.Array, "__getitem__", getitem)
    written, _ = unstack_array(tmp_path / "v.zarr", tmp_path / "o")
    assert [p.name for p in written] == [f"v_00{k}.tif" for k in range(4)]
    assert asked and all(isinstance(i[0], int) for i in asked)  # a z plane a read, not all
    assert np.array_equal(tifffile.imread(written[3]), np.moveaxis(image[3], 0, -1))


def test_a_plain_zarr_array_is_split_as_hdf5_s(tmp_path, capsys):
    stack = np.random.default_rng(4).integers(0, 255, (3, 6, 7), np.uint8)
    group = zarr.open_group(str(tmp_path / "s.zarr"), mode="w", zarr_format=2)
    group.create_array("raw", data=stack, chunks=(1, 6, 7))
    group.create_array("ids", data=stack.astype(np.uint64), chunks=(1, 6, 7))
    assert "--key ids" in _refused(capsys, tmp_path / "s.zarr", tmp_path / "o")
    _unstack(capsys, tmp_path / "s.zarr", tmp_path / "o", "--key", "raw")
    assert len(list((tmp_path / "o").iterdir())) == 3
    one = zarr.open_array(str(tmp_path / "one.zarr"), mode="w", shape=(2, 4, 4), dtype="u1")
    one[:] = 7
    assert "one Zarr array" in _refused(capsys, tmp_path / "one.zarr", tmp_path / "p",
                                        "--key", "0")


def test_bad_keys_and_stores_are_refused_by_name(tmp_path, capsys, monkeypatch):
    image, labels = _images(5, (2, 16, 16))
    _ome(tmp_path / "a.zarr", image, "cyx", labels)
    err = _refused(capsys, tmp_path / "a.zarr", tmp_path / "o", "--key", "labels/cells")
    assert "a.zarr has no array 'labels/cells'" in err and "'labels/nuclei/0'" in err
    both, _ = _images(6, (2, 1, 3, 8, 8))  # t and z both stacked: not one axis of planes
    _ome(tmp_path / "tz.zarr", both, "tczyx")
    assert "along t and z" in _refused(capsys, tmp_path / "tz.zarr", tmp_path / "o")
    (tmp_path / "zipped.zarr").write_bytes(b"PK\x03\x04")
    assert "unzip" in _refused(capsys, tmp_path / "zipped.zarr", tmp_path / "o")
    monkeypatch.setitem(sys.modules, "zarr", None)  # import zarr raises ImportError
    err = _refused(capsys, tmp_path / "a.zarr", tmp_path / "o")
    assert "a.zarr" in err and ".[zarr]" in err
    assert not (tmp_path / "o").exists()


def test_the_readme_s_ome_zarr_block_runs(tmp_path):
    from tests.test_volume_label_loops import _run

    block = re.search(r"```bash\n(for f in plate/\*\.ome\.zarr.*?)```", README, re.S).group(1)
    for k, axes in enumerate(["cyx", "czyx"]):
        image, labels = _images(k, (2, 3, 16, 16)[: len(axes)])
        (tmp_path / "plate").mkdir(exist_ok=True)
        _ome(tmp_path / "plate" / f"well{k}.ome.zarr", image, axes, labels)
    _run(block, tmp_path)
    names = sorted(p.name for p in (tmp_path / "omezarr" / "images").iterdir())
    assert names == ["well0.tif", "well1_000.tif", "well1_001.tif", "well1_002.tif"]
    assert sorted(p.name for p in (tmp_path / "omezarr" / "masks").iterdir()) == names
    group_by = re.search(r"planes in one split with `split\.group_by: '(.+?)'`", README).group(1)
    ids = [{"id": n[: -len(".tif")]} for n in names]
    assert set(groups_of(ids, group_by).values()) == {"well0", "well1"}


def test_levels_at_nested_paths_keep_their_axes(tmp_path, capsys):
    # multiscales datasets may name a level by a path of several parts ("s0/image"): its axes
    # are the group's above it, not lost (a c,z,y,x stack was refused as channels first)
    image, _ = _images(7, (2, 3, 16, 16))
    root = zarr.open_group(str(tmp_path / "n.ome.zarr"), mode="w", zarr_format=2)
    root.create_array("s0/image", data=image, chunks=(1, 1, 8, 8))
    root.attrs.update({"multiscales": [{"version": "0.4", "datasets": [{"path": "s0/image"}],
                       "axes": [{"name": a, "type": _AXES[a]} for a in "czyx"]}]})
    _unstack(capsys, tmp_path / "n.ome.zarr", tmp_path / "o")
    assert np.array_equal(tifffile.imread(tmp_path / "o" / "n_002.tif"),
                          np.moveaxis(image[:, 2], 0, -1))


def test_a_folder_of_no_zarr_array_is_refused_as_such(tmp_path, capsys):
    (tmp_path / "empty.zarr").mkdir()  # a folder named .zarr, no array in it
    (tmp_path / "empty.zarr" / "a.png").write_bytes(b"\x89PNG")
    err = _refused(capsys, tmp_path / "empty.zarr", tmp_path / "o")
    assert "empty.zarr holds no Zarr array" in err and "--key" not in err
    # a stray .zgroup that is no Zarr metadata does not make a folder a store
    from unet.dataset.zarr_store import is_zarr

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / ".zgroup").write_text("")
    assert not is_zarr(tmp_path / "scans")
    (tmp_path / "scans" / ".zgroup").write_text('{"zarr_format": 2}')
    assert is_zarr(tmp_path / "scans")


def test_one_plane_of_an_ome_zarr_is_reported_as_one_image(tmp_path, capsys):
    image, _ = _images(8, (2, 16, 16))
    _ome(tmp_path / "img.ome.zarr", image, "cyx")
    out = _unstack(capsys, tmp_path / "img.ome.zarr", tmp_path / "o")
    assert out.strip() == f"1 image written: {tmp_path / 'o' / 'img.tif'}"
