"""What a power cut (or a lost node) leaves of the files training resumes from."""

from __future__ import annotations

import os

import torch

from unet.model import checkpoint


def test_a_checkpoint_is_on_disk_before_it_replaces_the_last_one(tmp_path, disk_events):
    # checkpoint.save renamed its scratch file onto last.pt with the bytes still in the page
    # cache: after a power cut ext4 (delayed allocation) or XFS can show last.pt empty, and
    # the next run stopped on "last.pt is cut off" with the previous epoch's checkpoint gone.
    events = disk_events
    last = tmp_path / "last.pt"
    checkpoint.save(last, {"w": torch.zeros(10)})
    moved = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == str(last)]
    assert len(moved) == 1, events
    scratch = events[moved[0]][1]
    assert ("fsync", scratch) in events[: moved[0]], events  # its bytes, before the rename
    assert ("fsync", str(tmp_path)) in events[moved[0]:], events  # the rename itself
    assert checkpoint.load(last)["w"].shape == (10,)


def test_a_checkpoint_is_synced_where_fsync_needs_a_writable_handle(tmp_path, monkeypatch):
    # Windows: fsync is FlushFileBuffers, which refuses a handle opened read-only (EBADF), and a
    # folder cannot be opened at all. The scratch file was opened read-only to sync it, so every
    # checkpoint.save there failed and training stopped at its first epoch.
    import errno
    import fcntl

    sync, opened = os.fsync, os.open
    synced = []

    def fsync(fd):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        sync(fd)

    def open_(path, flags, *args, **kwargs):
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return opened(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "open", open_)
    last = tmp_path / "last.pt"
    checkpoint.save(last, {"w": torch.zeros(10)})
    assert checkpoint.load(last)["w"].shape == (10,)
    assert len(synced) == 1 and synced[0] != str(last), synced  # the scratch file, before
