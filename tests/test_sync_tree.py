"""sync_tree at the end of a step: a folder that holds files this step did not write (an
earlier run's masks, a colleague's in a shared folder) is synced, never refused or waited on."""

from __future__ import annotations

import errno
import os
import threading

from unet.common.durable import sync_tree


def _synced(monkeypatch) -> list[str]:
    """The paths os.fsync is called on, in order."""
    paths: list[str] = []
    sync = os.fsync

    def fsync(fd):
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        sync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return paths


def test_a_file_this_user_may_not_write_is_synced_read_only(tmp_path, monkeypatch):
    # unet predict -o into a shared folder holding a colleague's masks (0644, theirs): opening
    # them for writing failed with EACCES once every image was predicted, and the step failed
    theirs, ours = tmp_path / "theirs.png", tmp_path / "ours.png"
    theirs.write_bytes(b"x")
    ours.write_bytes(b"y")
    opened = os.open

    def open_(path, flags, *args):
        if str(path) == str(theirs) and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return opened(path, flags, *args)

    monkeypatch.setattr(os, "open", open_)
    synced = _synced(monkeypatch)
    sync_tree(tmp_path)
    assert {str(theirs), str(ours), str(tmp_path)} <= set(synced), synced


def test_a_fifo_in_the_folder_is_not_waited_on(tmp_path):
    # opening a named pipe for writing blocks until a reader comes: the step hung for good
    (tmp_path / "a.png").write_bytes(b"x")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (sync_tree(tmp_path), done.set()), daemon=True)
    worker.start()
    worker.join(5)
    if not done.is_set():  # free the blocked open, then fail
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        worker.join(5)
    assert done.is_set(), "sync_tree waited on a FIFO"


def test_a_folder_whose_fsync_is_refused_does_not_fail_the_step(tmp_path, monkeypatch):
    # some network file systems (CIFS, a few FUSE ones) refuse a folder's fsync with EINVAL
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.png").write_bytes(b"x")
    sync = os.fsync

    def fsync(fd):
        if os.path.isdir(os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(errno.EINVAL, "Invalid argument")
        sync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sync_tree(tmp_path)


def test_files_are_synced_together_and_their_folders_after_them(tmp_path, monkeypatch):
    # one fsync after another waits for a journal commit each: 1,500 masks and probabilities
    # of 64x64 images took 7-10 s on ext4, 0.1-0.3 s with 8 in flight (the commits shared)
    for k in range(12):
        (tmp_path / f"{k}.png").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.npy").write_bytes(b"y")
    lock, second = threading.Lock(), threading.Event()
    state = {"in_flight": 0, "most": 0, "files": 0, "dir_after": []}
    sync = os.fsync

    def fsync(fd):
        is_dir = os.path.isdir(os.readlink(f"/proc/self/fd/{fd}"))
        with lock:
            state["in_flight"] += 1
            state["most"] = max(state["most"], state["in_flight"])
            if is_dir:
                state["dir_after"].append(state["files"])
            else:
                state["files"] += 1
            first = state["files"] == 1 and not is_dir
            if state["in_flight"] > 1:
                second.set()
        if first:
            second.wait(5)  # the first file's sync waits (5 s at most) for a second to start
        sync(fd)
        with lock:
            state["in_flight"] -= 1

    monkeypatch.setattr(os, "fsync", fsync)
    sync_tree(tmp_path)
    assert state["most"] > 1, "one fsync at a time"
    assert state["dir_after"] == [13, 13], state  # each folder once, after all 13 files
