"""fsync of files and folders: outputs a rerun trusts survive a power cut."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# fsyncs in flight at once: one after another, each waits for its own journal commit (ext4,
# XFS); together they share commits. 1,500 small files: 7-10 s one at a time, 0.1-0.3 s by 8.
IN_FLIGHT = 8


def _sync(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes the renames in it survive a power cut)."""
    # a file opened for writing: Windows' fsync (FlushFileBuffers) refuses a read-only handle
    fd = os.open(path, os.O_RDONLY if path.is_dir() else os.O_WRONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so the renames in it survive a power cut; Windows cannot open one."""
    with contextlib.suppress(OSError):
        _sync(folder)


def _sync_kept(path: Path) -> None:
    """_sync a file of the folder, one this user may not write too (a colleague's mask in a
    shared -o folder, one made read-only): POSIX fsyncs a read-only handle, Windows cannot."""
    try:
        _sync(path)
    except PermissionError:
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _sync_all(paths: list[Path]) -> None:
    """_sync_kept each file, IN_FLIGHT at a time (fsync releases the GIL); the first error
    raised once all are done."""
    if len(paths) < 2:
        for path in paths:
            _sync_kept(path)
        return
    with ThreadPoolExecutor(min(IN_FLIGHT, len(paths))) as pool:
        for _ in pool.map(_sync_kept, paths):
            pass


def sync_tree(folder: str | os.PathLike) -> None:
    """fsync every file under `folder`, then each folder from the deepest up: the end of a step
    whose output is a folder of files written atomically but not synced one by one (a rerun
    trusts the whole folder once the job ended); files IN_FLIGHT at a time (_sync_all)."""
    folder = Path(folder)
    dirs, files = [folder], []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            continue
        if path.is_dir():
            dirs.append(path)
        elif path.is_file():  # a FIFO's open for writing waits for a reader: the step hung
            files.append(path)
    _sync_all(files)  # every file before any folder: a folder's entries then name synced bytes
    for path in sorted(dirs, key=lambda d: len(d.parts), reverse=True):
        _sync_folder(path)


def sync_files(folder: str | os.PathLike, names: Iterable[str]) -> None:
    """fsync the files `names` in `folder` that exist, then the folder: the end of a step that
    wrote them into a folder of others' files (unet predict -o), which are left alone."""
    folder = Path(folder)
    paths = [folder / name for name in names]
    _sync_all([p for p in paths if p.is_file() and not p.is_symlink()])
    _sync_folder(folder)
