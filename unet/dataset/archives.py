"""Unpack zip and tar archives into one folder, refusing members that would land outside it."""

from __future__ import annotations

import gzip
import logging
import lzma
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from unet.common.fileio import read_json, temp_dir_beside, write_json
from unet.dataset.archive_kinds import other_kind
from unet.dataset.archive_links import (
    is_zip_link,
    link_or_copy,
    link_order,
    outside_link,
    tar_members,
    zip_links,
)
from unet.dataset.archive_links import parts as _parts
from unet.dataset.member_names import NameClash, legacy_tar_names, zip_name_encoding

log = logging.getLogger(__name__)

MARKER = ".unpacked.json"  # written last: its presence means the tree is complete
# Raised when a fix changes what unpacking writes, so a tree unpacked before it is unpacked
# again: 2, zip names with backslashes, UTF-8 without the flag, tar names in cp1252; 3, NFC;
# 4, zip symlinks as links (they were small files holding their targets).
UNPACKER = 4
# What a truncated or corrupt archive raises while being read.
_DAMAGED = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)
_DAMAGED += (gzip.BadGzipFile,)
Opened = zipfile.ZipFile | tarfile.TarFile


class ArchiveError(ValueError):
    """An archive is unsafe, damaged, or not an archive at all."""


@dataclass(frozen=True)
class Archive:
    """A fetched archive, its sha256, and where it came from (named in errors)."""

    path: Path
    sha256: str
    origin: str


def _open(archive: Archive) -> Opened:
    """The archive opened by its content (not its name), or an error if it is neither kind."""
    path = archive.path
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path, metadata_encoding=zip_name_encoding(path))
    if tarfile.is_tarfile(path):
        if not hasattr(tarfile, "data_filter"):
            raise ArchiveError(
                f"{archive.origin}: unpacking {path.name} safely needs tarfile's extraction "
                "filters (Python >= 3.11.4); upgrade Python in this environment"
            )
        try:
            return legacy_tar_names(tarfile.open(path, "r:*"))  # gz, bz2 or xz, detected
        except NameClash as clash:
            raise ArchiveError(f"{archive.origin}: {clash}") from None
    what, fix = other_kind(path)
    path.unlink(missing_ok=True)
    raise ArchiveError(
        f"{archive.origin}: {path.name} is neither a zip nor a tar archive ({what}); it was "
        f"removed. {fix}"
    )


def _refused(archive: Archive, member: str, why: str, target: Path) -> ArchiveError:
    return ArchiveError(
        f"{archive.origin}: member {member!r} of {archive.path.name} {why}; refusing to unpack "
        f"it into {target} (nothing was written). Use an archive whose members are relative "
        "paths inside it, from a source you trust."
    )


_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {9: "Deflate64 (Windows' zip folders, above 2 GB)", 93: "Zstandard", 98: "PPMd"}


def _zip_readable(archive: Archive, opened: zipfile.ZipFile) -> None:
    """Refuse a zip that zipfile would stop in with a bare RuntimeError (encrypted members)
    or NotImplementedError (compression it lacks), before anything is written."""
    where = f"{archive.origin}: {archive.path.name}"
    for info in opened.infolist():
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{where} is password-protected (member {info.filename!r} is encrypted); "
                "unpack it yourself with its password and use dataset.source: local"
            )
        if info.compress_type not in _ZIP_METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise ArchiveError(
                f"{where}: member {info.filename!r} is compressed with {method}, which Python's "
                "zipfile cannot read; unpack it yourself (7-Zip, unzip) and use dataset.source: "
                "local, or repack it as a plain zip or a tar"
            )


_LINK = "\0"  # ends the owners' key of a link member (no member name holds a NUL)


def _claim(archive: Archive, opened: Opened, owners: dict[str, str], target: Path) -> None:
    """Refuse absolute or climbing member names, and files that another archive brings too."""
    if isinstance(opened, zipfile.ZipFile):
        entries = [(i.filename, _zip_dir(i), is_zip_link(i)) for i in opened.infolist()]
        _zip_readable(archive, opened)
    else:
        entries = [(m.name, m.isdir(), m.issym() or m.islnk()) for m in opened.getmembers()]
    spelt: dict[str, str] = {}  # each key's member name in this archive
    for member, is_dir, is_link in entries:
        # zipfile would drop a '..' and tar's filter a leading '/' without a word, unpacking
        # the member somewhere other than the archive says: both are refused instead.
        parts = _parts(member)
        if parts is None:
            raise _refused(archive, member, "is an absolute path or climbs out with '..'", target)
        key = "/".join(parts)
        if not is_dir and spelt.setdefault(key, member) != member:
            clash = NameClash(spelt[key], member, archive.path.name)
            raise ArchiveError(f"{archive.origin}: {clash}")
        if not is_dir and owners.setdefault(key, archive.origin) != archive.origin:
            raise ArchiveError(
                f"{archive.origin}: member {member!r} of {archive.path.name} is also in "
                f"{owners[key]}; archives unpacked into one folder must not share files"
            )
        if is_link:  # may stand for a folder: its own checks (outside_link, _unzip) apply
            owners.setdefault(key + _LINK, archive.origin)
        folders = parts if is_dir else parts[:-1]
        for k in range(1, len(folders) + 1):  # folders end with '/' among the owners
            owners.setdefault("/".join(folders[:k]) + "/", archive.origin)
    _file_and_folder(archive, owners)


def _file_and_folder(archive: Archive, owners: dict[str, str]) -> None:
    """Refuse a name that is both a file and a folder ('x' beside 'x/a.png'), in one archive
    or two: writing the second failed with a bare FileExistsError or NotADirectoryError."""
    for key, origin in owners.items():
        if key[-1] not in "/" + _LINK and key + "/" in owners and key + _LINK not in owners:
            where = {origin, owners[key + "/"]}
            raise ArchiveError(
                f"{archive.origin}: {key!r} is both a file and a folder (in "
                f"{' and '.join(sorted(where))}); a file system holds one of them only: "
                "rename or remove the file, or unpack the archive yourself and use "
                "dataset.source: local"
            )


def _zip_dir(info: zipfile.ZipInfo) -> bool:
    """Whether a zip member is a folder ('images/', or 'images\\' from Windows)."""
    return info.filename.endswith(("/", "\\"))


def _unzip(archive: Archive, opened: zipfile.ZipFile, tmp: Path, target: Path) -> None:
    """Write each member of a checked zip at the path its name spells, a backslash being a
    separator too: zipfile's extractall keeps it in the file name on Linux ('images\\a.png',
    from older Windows tools, beside no images/). Symlink members (`zip -y`), which zipfile
    writes as small files holding their targets, become links, after the files, each refused
    where it leads outside (its target, or a member under it). A member whose folder leads
    outside through links that other archives unpacked before it is refused (each archive's
    own links are checked on their own, so "up" -> "x/.." and, from a later archive, "x" ->
    "." make "up" the parent)."""
    links = zip_links(opened)
    bad = outside_link([(i.filename, links.get(i.filename), False) for i in opened.infolist()])
    if bad:
        raise _refused(archive, *bad, target)
    inside, pending = os.path.realpath(tmp), []
    for info in sorted(opened.infolist(), key=lambda i: i.filename in links):  # links last
        dest = tmp.joinpath(*_parts(info.filename))
        real = os.path.realpath(dest)
        if os.path.commonpath([inside, real]) != inside:
            raise _refused(archive, info.filename, f"would land in {real} through links that "
                           "other archives unpacked", target)
        if _zip_dir(info):
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if info.filename in links:
            pending.append((info.filename, links[info.filename].replace("\\", "/"), dest))
            continue
        with opened.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    for name, to, dest in link_order(pending):
        link_or_copy(to, dest)
        if os.path.commonpath([inside, os.path.realpath(dest)]) != inside:
            raise _refused(archive, name, "is a link leading outside through links that "
                           "other archives unpacked", target)


# Files fetched as they are, not archives: a competition's CSV of run-length masks, COCO
# annotations served apart from their images (LIVECell's livecell_coco_train.json).
PLAIN = (".csv", ".json")
_POOCH_PREFIX = re.compile(r"^[0-9a-f]{32}-")  # pooch names a download <md5 of URL>-<name>


def _plain(archive: Archive) -> bool:
    path = archive.path
    return path.suffix.lower() in PLAIN and not (
        zipfile.is_zipfile(path) or tarfile.is_tarfile(path))


def _unpack(archive: Archive, tmp: Path, target: Path, owners: dict[str, str]) -> None:
    """Check the members of `archive`, then unpack it into `tmp` (a plain file is copied)."""
    if _plain(archive):
        name = _POOCH_PREFIX.sub("", archive.path.name)  # the URL's own file name
        if owners.setdefault(name, archive.origin) != archive.origin:
            raise ArchiveError(f"{archive.origin}: {name} is also in {owners[name]}")
        shutil.copyfile(archive.path, tmp / name)
        return
    with _open(archive) as opened:
        _claim(archive, opened, owners, target)
        if isinstance(opened, zipfile.ZipFile):
            _unzip(archive, opened, tmp, target)
            return
        bad = outside_link(tar_members(opened))
        if bad:
            raise _refused(archive, *bad, target)
        try:
            # The filter refuses devices, FIFOs and links resolving outside, and drops setuid
            # and other odd mode bits and the archive's owners.
            opened.extractall(tmp, filter="data")
        except tarfile.FilterError as err:
            member = err.tarinfo.name
            why = str(err).removeprefix(f"{member!r} ")  # the filter's reason starts with it
            raise _refused(archive, member, why, target) from err


def extract_archives(archives: list[Archive], target: Path) -> None:
    """Unpack `archives` together into `target`, atomically; skip when already done."""
    target = Path(target)
    stamp = {"unpacker": UNPACKER,
             "archives": [{"file": a.path.name, "sha256": a.sha256} for a in archives]}
    marker = target / MARKER
    if marker.is_file() and read_json(marker) == stamp:
        log.info("%s already holds %s", target, ", ".join(a.path.name for a in archives))
        return
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{target.name}.*"):  # what a killed run left
        shutil.rmtree(stale, ignore_errors=True)
    # Unpack beside the target, then rename: a killed run never leaves a tree that looks done.
    tmp = temp_dir_beside(target)
    try:
        owners: dict[str, str] = {}
        for archive in archives:
            log.info("unpacking %s", archive.path.name)
            try:
                _unpack(archive, tmp, target, owners)
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
