"""Atomic writes: a failed write leaves nothing, and a finished file has the mode the user's
umask gives any new file (mkstemp's 0600 made results unreadable to a shared group)."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

from unet.common.fileio import DiskFullError, atomic_dir, atomic_path, reserve, write_json
from unet.common.labels import MaskMapping
from unet.infer.writer import PredictionWriter


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_follow_the_umask(tmp_path, umask):
    write_json(tmp_path / "a.json", {"x": 1})
    with atomic_path(tmp_path / "sub" / "b.npy") as tmp:
        np.save(tmp, np.zeros(3))
    with atomic_dir(tmp_path / "cache") as tmp:
        (tmp / "meta.json").write_text("{}")
    for path in (tmp_path / "a.json", tmp_path / "sub" / "b.npy", tmp_path / "cache" / "meta.json"):
        assert _mode(path) == 0o666 & ~umask, path


def test_prediction_outputs_follow_the_umask(tmp_path, umask):
    import torch

    mapping = MaskMapping(values=(0, 255))
    for stream in (True, False):
        out = tmp_path / str(stream)
        writer = PredictionWriter(
            out / "m.png",
            out / "p.npy",
            mapping,
            cached=(20, 30) if stream else (10, 15),
            original=(20, 30),
        )
        with writer as w:
            rows = 20 if stream else 10
            w.add(0, torch.softmax(torch.randn(2, rows, 30 if stream else 15), 0))
        for path in (out / "m.png", out / "p.npy"):
            assert _mode(path) == 0o666 & ~umask, path
        assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_reserve_allocates_a_sparse_file(tmp_path):
    path = tmp_path / "a.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(64, 1024)).flush()
    reserve(path)
    assert os.stat(path).st_blocks * 512 >= os.path.getsize(path)


def test_reserve_on_a_full_disk_names_the_file_and_the_room(tmp_path, monkeypatch):
    # Without it a full disk showed as a SIGBUS when a page of the map was first written: the
    # process died with "Bus error" and no message (preprocess, one thread).
    path = tmp_path / "train_images.npy"
    path.write_bytes(b"x" * 3_000_000)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match=r"3\.0 MB of .*train_images\.npy: its disk is full.*MB free"):
        reserve(path)


def test_a_file_size_limit_inside_an_atomic_write_names_the_file(tmp_path):
    match = r"m\.png: the file exceeds a file size limit"
    with pytest.raises(DiskFullError, match=match), atomic_path(tmp_path / "m.png"):
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    assert not list(tmp_path.iterdir())


def test_prediction_on_a_full_disk_is_an_error_naming_the_file(tmp_path, monkeypatch):
    # Its maps were sparse: a full disk was a SIGBUS ("Bus error", no message) mid-image.
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    writer = PredictionWriter(tmp_path / "m.png", tmp_path / "p.npy", MaskMapping(values=(0, 255)),
                              cached=(20, 30), original=(20, 30))
    with pytest.raises(DiskFullError, match=r"p\.npy.*: its disk is full"), writer:
        pass
    assert not list(tmp_path.iterdir())


def test_a_folder_that_is_a_link_to_nothing_is_named(tmp_path, capsys):
    """Writing into a link to a missing folder (an unmounted drive) said only '[Errno 17] File
    exists: ...' (unet unstack, unet export, every atomic write)."""
    from unet.cli import main

    (tmp_path / "out").symlink_to(tmp_path / "drive" / "x")
    for target in (tmp_path / "out" / "a.json", tmp_path / "out" / "sub" / "a.json"):
        with pytest.raises(FileNotFoundError, match=r"out is a link to .*drive/x.*not exist"):
            write_json(target, {})
    from PIL import Image

    Image.new("L", (4, 4)).save(tmp_path / "s.tif", save_all=True,
                                append_images=[Image.new("L", (4, 4))])
    assert main(["unstack", str(tmp_path / "s.tif"), str(tmp_path / "out")]) == 2
    assert "drive/x" in capsys.readouterr().err
