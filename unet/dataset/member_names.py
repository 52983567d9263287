"""Archive member names made on other systems, read as the text they were written in."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path
from unicodedata import normalize


def zip_name_encoding(path: Path) -> str | None:
    """'utf-8' for a zip whose names without the UTF-8 flag are UTF-8 all the same (`zip` on
    Linux and macOS writes them so), else None: zipfile's cp437, the zip standard's default.
    Read as cp437, 'café.png' in UTF-8 became 'caf├⌐.png'; cp437 names with letters beyond
    ASCII are almost never valid UTF-8."""
    with zipfile.ZipFile(path) as zf:  # unflagged names were decoded as cp437: undo that
        raw = [i.orig_filename.encode("cp437") for i in zf.infolist() if not i.flag_bits & 0x800]
    if all(name.isascii() for name in raw):
        return None
    try:
        for name in raw:
            name.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _legacy(name: str) -> str:
    """`name` as cp1252 (latin-1 where cp1252 has no character) when its bytes are not
    UTF-8, which tarfile kept as lone surrogates ('caf\\udce9.png'); else unchanged."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class NameClash(ValueError):
    """Two members of one archive whose names a file system reads as one."""

    def __init__(self, first: str, second: str, archive: str) -> None:
        super().__init__(
            f"members {first!r} and {second!r} of {archive} have the same name once read as a "
            "file system does (as composed Unicode, '\\' as '/'); rename one, or unpack it "
            "yourself")


def legacy_tar_names(opened: tarfile.TarFile) -> tarfile.TarFile:
    """Rename, in place, the members (and link targets) of a tar whose names are not UTF-8:
    tar keeps names as the bytes it was given, so one made where file names were cp1252 or
    latin-1 unpacked as names holding lone surrogates, giving ids that no later step could
    write. Western code pages are the likely ones; names in others become other letters, but
    text all the same, and alike for an image and its mask. Two files whose names differ
    only in Unicode form ('café' composed and decomposed) raise NameClash: composed, the
    second would silently replace the first (a name given twice is a tar's update, kept)."""
    spelt: dict[str, str] = {}
    try:
        for member in opened.getmembers():  # reads the whole archive: a damaged one fails here
            given, member.name = member.name, normalize("NFC", _legacy(member.name))
            if not member.isdir() and spelt.setdefault(member.name, given) != given:
                raise NameClash(spelt[member.name], given, Path(opened.name or "").name)
            if member.linkname:
                member.linkname = normalize("NFC", _legacy(member.linkname))
    except BaseException:
        opened.close()
        raise
    return opened
