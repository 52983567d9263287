"""Unpack zip and tar archives into one folder, refusing members that would land outside it."""

from __future__ import annotations

import gzip
import logging
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from unet.common.fileio import read_json, write_json

log = logging.getLogger(__name__)

MARKER = ".unpacked.json"  # written last: its presence means the tree is complete
_SEP = re.compile(r"[\\/]+")  # a backslash is a separator too, for archives made on Windows
_ABSOLUTE = re.compile(r"^([\\/]|[A-Za-z]:)")
# What a truncated or corrupt archive raises while being read.
_DAMAGED = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)
_DAMAGED += (gzip.BadGzipFile,)


class ArchiveError(ValueError):
    """An archive is unsafe, damaged, or not an archive at all."""


@dataclass(frozen=True)
class Archive:
    """A fetched archive, its sha256, and where it came from (named in errors)."""

    path: Path
    sha256: str
    origin: str


@dataclass(frozen=True)
class _Member:
    name: str
    kind: str  # file, dir, symlink, hardlink or other (devices, FIFOs)
    target: str = ""


def _zip_members(zf: zipfile.ZipFile) -> list[_Member]:
    members = []
    for info in zf.infolist():
        if stat.S_ISLNK(info.external_attr >> 16):
            # zipfile writes a link as a small file holding its target, but another unpacker
            # would make a real link: refuse escaping ones all the same.
            target = zf.read(info).decode("utf-8", "replace")
            members.append(_Member(info.filename, "symlink", target))
        else:
            members.append(_Member(info.filename, "dir" if info.is_dir() else "file"))
    return members


def _tar_members(tf: tarfile.TarFile) -> list[_Member]:
    members = []
    for m in tf.getmembers():
        if m.issym() or m.islnk():
            members.append(_Member(m.name, "symlink" if m.issym() else "hardlink", m.linkname))
        else:
            members.append(
                _Member(m.name, "file" if m.isfile() else "dir" if m.isdir() else "other")
            )
    return members


def _parts(name: str) -> list[str] | None:
    """Path components of a member name; None when it is absolute or climbs with '..'."""
    if _ABSOLUTE.match(name):
        return None
    parts = [p for p in _SEP.split(name) if p not in ("", ".")]
    return None if ".." in parts else parts


def _link_stays_inside(start: list[str], target: str, links: set[str]) -> bool:
    """Whether link `target`, read from folder `start`, stays inside the archive's folder."""
    if _ABSOLUTE.match(target):
        return False
    stack = list(start)
    for part in _SEP.split(target):
        if part in ("", "."):
            continue
        # Through another link the lexical answer is wrong ("l/.." with l -> "." is the
        # parent folder, not the root), so stepping through one is refused.
        if stack and "/".join(stack) in links:
            return False
        if part == "..":
            if not stack:
                return False
            stack.pop()
        else:
            stack.append(part)
    return True


def _unsafe(members: list[_Member]) -> tuple[_Member, str] | None:
    """The first member that could write or point outside the folder, and why."""
    links = {
        "/".join(p)
        for m in members
        if m.kind in ("symlink", "hardlink") and (p := _parts(m.name)) is not None
    }
    for m in members:
        parts = _parts(m.name)
        if parts is None:
            return m, "is an absolute path or climbs out with '..'"
        if m.kind == "other":
            return m, "is a device, FIFO or other special file"
        if any("/".join(parts[:k]) in links for k in range(1, len(parts))):
            return m, "lies under a link member, so writing it could land anywhere"
        # Symlinks are read from their own folder, tar hard links from the archive's root.
        start = parts[:-1] if m.kind == "symlink" else []
        if m.kind in ("symlink", "hardlink") and not _link_stays_inside(start, m.target, links):
            return m, f"is a link to {m.target!r}, outside the folder"
    return None


def _open(archive: Archive) -> zipfile.ZipFile | tarfile.TarFile:
    """The archive opened by its content (not its name), or an error if it is neither kind."""
    path = archive.path
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path)
    if tarfile.is_tarfile(path):
        return tarfile.open(path, "r:*")  # gz, bz2 or xz, detected
    path.unlink(missing_ok=True)
    raise ArchiveError(
        f"{archive.origin}: {path.name} is neither a zip nor a tar archive (cut off, or an "
        "HTML page?); it was removed. Point the URL at the archive itself and run again."
    )


def _unpack(archive: Archive, tmp: Path, target: Path, owners: dict[str, str]) -> None:
    """Check every member of `archive`, then unpack it into `tmp`."""
    path = archive.path
    with _open(archive) as opened:
        is_zip = isinstance(opened, zipfile.ZipFile)
        members = _zip_members(opened) if is_zip else _tar_members(opened)
        bad = _unsafe(members)
        if bad:
            raise ArchiveError(
                f"{archive.origin}: member {bad[0].name!r} of {path.name} {bad[1]}; refusing "
                f"to unpack it into {target} (nothing was written). Use an archive whose "
                "members are relative paths inside it, from a source you trust."
            )
        for m in members:
            key = "/".join(_parts(m.name) or [])
            if m.kind != "dir" and owners.setdefault(key, archive.origin) != archive.origin:
                raise ArchiveError(
                    f"{archive.origin}: member {m.name!r} of {path.name} is also in "
                    f"{owners[key]}; archives unpacked into one folder must not share files"
                )
        if is_zip:
            opened.extractall(tmp)
        elif hasattr(tarfile, "data_filter"):
            # Python's own checks on top of ours (also drops setuid bits and odd modes).
            opened.extractall(tmp, filter="data")
        else:
            opened.extractall(tmp)


def extract_archives(archives: list[Archive], target: Path) -> None:
    """Unpack `archives` together into `target`, atomically; skip when already done."""
    target = Path(target)
    stamp = [{"file": a.path.name, "sha256": a.sha256} for a in archives]
    marker = target / MARKER
    if marker.is_file() and read_json(marker) == stamp:
        log.info("%s already holds %s", target, ", ".join(a.path.name for a in archives))
        return
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{target.name}.*"):  # what a killed run left
        shutil.rmtree(stale, ignore_errors=True)
    # Unpack beside the target, then rename: a killed run never leaves a tree that looks done.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    try:
        owners: dict[str, str] = {}
        for archive in archives:
            log.info("unpacking %s", archive.path.name)
            try:
                _unpack(archive, tmp, target, owners)
            except tarfile.FilterError as err:
                raise ArchiveError(
                    f"{archive.origin}: {archive.path.name}: {err}; refusing to unpack it"
                ) from err
            except _DAMAGED as err:
                # Removed, so that the next run downloads it again instead of reusing it.
                archive.path.unlink(missing_ok=True)
                raise ArchiveError(
                    f"{archive.origin}: {archive.path.name} is damaged ({err}); it was "
                    "removed: run again to download it anew"
                ) from err
        write_json(tmp / MARKER, stamp)
        old = parent / f".{target.name}.old"
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
