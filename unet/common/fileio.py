"""Atomic file writes: a partial file never looks complete."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from unet.common.durable import _sync, _sync_folder

log = logging.getLogger(__name__)


def make_folder(folder: str | os.PathLike) -> None:
    """mkdir -p, naming a link to a missing folder on the way (an unmounted drive), where
    mkdir said only '[Errno 17] File exists'."""
    folder = Path(folder)
    if folder.is_dir():  # the usual case, one stat: every temporary file's folder comes here
        return
    top = folder  # the first missing folder, for the log line
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        for p in (folder, *folder.parents):
            if p.is_symlink() and not p.exists():
                raise FileNotFoundError(f"{p} is a link to {os.readlink(p)}, which does not "
                                        "exist: make (or mount) that folder, or write "
                                        "elsewhere") from None
        raise
    # A mistyped path (`--onnx /data/exprot/m.onnx`) is seen, not made without a word
    log.info("%s did not exist: made it%s", folder, f" (from {top} down)" * (top != folder))


def _fresh_beside(path: str | os.PathLike, create: Callable[[Path], None]) -> Path:
    """A new hidden `.<name>.<random>.part` beside `path` (same folder, so renaming it onto
    `path` is atomic), made by `create`, which must fail when the name is taken."""
    path = Path(path)
    make_folder(path.parent)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
        try:
            create(tmp)
            return tmp
        except FileExistsError:
            continue


def temp_beside(path: str | os.PathLike) -> Path:
    """An empty temporary file beside `path`, of the mode the umask makes of 0666 as for any
    new file (mkstemp's 0600 would stay with the renamed output and hide results from a
    shared group)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    return _fresh_beside(path, lambda p: os.close(os.open(p, flags, 0o666)))


def temp_dir_beside(path: str | os.PathLike) -> Path:
    """An empty temporary folder beside `path`, of the umask's mode for new folders (mkdtemp's
    0700 would stay with a folder renamed onto `path`)."""
    return _fresh_beside(path, lambda p: p.mkdir(mode=0o777))


def umask() -> int:
    """This process's umask (set and put back at once: os.umask has no read-only form)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only on success. `durable`:
    its bytes reach the disk before the rename, and the rename before the return, so a power
    cut leaves the old file or the new one (ext4's delayed allocation and XFS can otherwise
    show a renamed file empty); an fsync costs a disk flush, so only files resumed from."""
    tmp_path = temp_beside(path)
    try:
        with disk_errors(path):
            yield tmp_path
            if durable:
                _sync(tmp_path)
        os.replace(tmp_path, path)
        if durable:
            _sync_folder(Path(path).parent)
    finally:
        tmp_path.unlink(missing_ok=True)


def drop_scratch(*paths: str | os.PathLike) -> None:
    """Remove the scratch files or folders of `paths` (`.<name>.<hex>.part` beside each) that
    a killed run left: SIGKILL, a lost node or the OOM killer run no cleanup, and each may be
    as large as the output (a whole cache, a checkpoint with its optimiser state). Each folder
    is listed once, however many of its files are named (a folder of 5,000 masks)."""
    names: dict[Path, set[str]] = {}
    for path in map(Path, paths):
        names.setdefault(path.parent, set()).add(path.name)
    for folder, own in names.items():
        if not folder.is_dir():
            continue
        for stale in folder.iterdir():
            found = _SCRATCH.fullmatch(stale.name)
            if not found or found[1] not in own:
                continue
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


_SCRATCH = re.compile(r"\.(.+)\.[0-9a-f]{8}\.part")  # _fresh_beside's names: the output's in it


def output_name(path: str | os.PathLike) -> Path:
    """`path` with each scratch name in it (`.<name>.<hex>.part`) put back as its output's
    `<name>`: what an error shows, as the hidden scratch is gone when the user looks."""
    return Path(*(m[1] if (m := _SCRATCH.fullmatch(part)) else part for part in Path(path).parts))


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a scratch folder beside `path`; on success move its files into `path` in name
    order, meta.json last (its presence marks the folder complete); on failure drop them.
    `durable`: every file's bytes, then their renames, reach the disk before meta.json's rename
    (a power cut otherwise could leave meta.json beside files read back as zeros)."""
    path = Path(path)
    make_folder(path)
    drop_scratch(path)
    tmp = temp_dir_beside(path)
    try:
        with disk_errors(path):
            yield tmp
            items = sorted(tmp.iterdir(), key=lambda p: (p.name == "meta.json", p.name))
            if durable:  # one flush per file, all before any rename: a batch, not interleaved
                for item in items:
                    _sync(item)
        for item in items:
            if durable and item.name == "meta.json":
                _sync_folder(path)  # the others' renames first: meta.json never alone
            os.replace(item, path / item.name)
        if durable:
            _sync_folder(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class DiskFullError(OSError):
    """A write failed for want of room: a full disk, a quota or a file size limit."""


_ROOM = "free space, or run the workflow from a larger disk"
_FULL = {  # errno: (what happened, the fix)
    errno.ENOSPC: ("its disk is full", _ROOM),
    errno.EDQUOT: ("the disk quota is used up", _ROOM),
    errno.EFBIG: ("the file exceeds a file size limit (`ulimit -f`) or the file system's "
                  "largest file", "raise the limit, or use another file system"),
}


@contextlib.contextmanager
def disk_errors(path: str | os.PathLike, need: int | None = None) -> Iterator[None]:
    """Turn a failed write of `path` for want of room into an error naming the file, the room
    left and the fix (Python's own says "[Errno 28] No space left on device" and no file)."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as err:
        if err.errno not in _FULL:
            raise
        path = output_name(path)  # cache/x.npy, not its scratch folder's copy, gone by now
        where = path.absolute()
        while not where.exists() and where != where.parent:
            where = where.parent
        free = shutil.disk_usage(where).free / 1e6
        size = "" if need is None else f" {need / 1e6:,.1f} MB of"
        what, fix = _FULL[err.errno]
        raise DiskFullError(
            err.errno, f"cannot write{size} {path}: {what} ({free:,.1f} MB free there); {fix}"
        ) from err


def reserve(path: str | os.PathLike, name: str | os.PathLike | None = None) -> None:
    """Allocate the disk blocks of a sparse file (a new memory map's), so that a full disk is
    an error now, naming the file (`name`: the output a scratch file becomes, not its hidden
    scratch name), not a SIGBUS that kills the process (or a pool's worker) without a word
    when a page of the map is first written."""
    size = os.path.getsize(path)
    with disk_errors(name or path, size), open(path, "r+b") as f:
        os.posix_fallocate(f.fileno(), 0, size)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def check_writable(path: str | os.PathLike, key: str) -> None:
    """Refuse, before any work, a file `path` (given as `key`, e.g. --rle) that could not be
    written: its folder, or the nearest one above it that exists, takes a probe file (removed
    at once). Without it the write failed at the end, naming its scratch file."""
    path = Path(path)
    _probe(path.absolute().parent, f"{key} {path}", path.parent)


def check_folder(folder: str | os.PathLike) -> None:
    """Refuse, before any work, an output folder that is a file, or could not be made (a file
    above it) or written: mkdir's own '[Errno 20] Not a directory' named no fix."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; name a folder to write into")
    _probe(folder.absolute(), str(folder), folder)


def _probe(start: Path, named: str, folder: Path) -> None:
    """Write and remove a probe file in `start`, or the nearest folder above it that exists."""
    where = start
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise FileExistsError(f"{named}: {where} is a file, so the folder {folder} cannot be "
                              "made; name another place")
    try:
        temp_beside(where / "probe").unlink()
    except OSError as err:
        raise PermissionError(f"{named}: cannot write there ({err.strerror} in {where}); "
                              "name a folder you may write to") from err


def first_not_utf8(raw: bytes) -> tuple[int, int] | None:
    """(offset, line) of the first byte of `raw` that is not UTF-8, None when every byte is:
    a CR, LF or CRLF ends a line (Excel for Mac ends a CSV's lines in CR; YAML and JSON take
    all three), counted on the whole file (a text reader's error counts from its chunk)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start, len((raw[: err.start] + b".").splitlines())
    return None


@contextlib.contextmanager
def csv_field_limit(chars: int) -> Iterator[None]:
    """Let csv read fields of up to `chars` characters, then restore the process's limit: csv
    stops at 131,072 (one 1918x1280 mask of 20,000 runs is 240,000, HuBMAP's slides millions)."""
    import csv

    limit = csv.field_size_limit(max(chars, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def damage(path: str | os.PathLike, err: BaseException) -> str:
    """Why a file would not decode: the decoder's reason, or that the file is empty, for which
    PIL says "cannot identify image file", as if of a format to convert (a copy or download
    that never finished leaves 0 bytes)."""
    try:
        empty = os.path.getsize(path) == 0
    except OSError:  # gone, or no plain file: the decoder's own words
        empty = False
    if empty:
        return "it is empty (0 bytes: a copy or download that did not finish)"
    # a headerless raw image (JSRT's .IMG) is "unidentified" too: name the converter
    return str(err) + (raw_hint(path) if "cannot identify" in str(err) else "")


def raw_hint(path: str | os.PathLike) -> str:
    """For a file no decoder knows: the square headerless images its size could hold."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return ""
    fits = [(math.isqrt(size // b), b) for b in (2, 1)
            if size % b == 0 and math.isqrt(size // b) ** 2 == size // b
            and math.isqrt(size // b) >= 32]
    if not fits:
        return ""
    side, each = fits[0]
    return (f"; if it is a headerless raw image, its {size:,} bytes fit {side}x{side} "
            f"{8 * each}-bit pixels: convert such files with `unet raw FILES... FOLDER --dtype "
            f"{'>u2' if each == 2 else 'u1'}` (README: Headerless raw images)")
