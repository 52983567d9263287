"""Link members of tar and zip archives: which could lead outside the folder they unpack into."""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path
from unicodedata import normalize

log = logging.getLogger(__name__)

SEP = re.compile(r"[\\/]+")  # a backslash is a separator too, for archives made on Windows
ABSOLUTE = re.compile(r"^([\\/]|[A-Za-z]:)")
# A member: its name, the target when it is a link (else None), and whether that target is
# read from the archive's root (a tar hard link) rather than from the link's own folder.
Member = tuple[str, str | None, bool]


def parts(name: str) -> list[str] | None:
    """Path components of a member name; None when it is absolute or climbs with '..'."""
    if ABSOLUTE.match(name):
        return None
    # Composed (NFC), as names are typed: macOS writes café decomposed, matching no CSV row.
    found = [normalize("NFC", p) for p in SEP.split(name) if p not in ("", ".")]
    return None if ".." in found else found


def _stays_inside(start: list[str], target: str, links: set[str]) -> bool:
    """Whether link `target`, read from folder `start`, stays inside the archive's folder."""
    if ABSOLUTE.match(target):
        return False
    stack = list(start)
    for part in SEP.split(target):
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


def tar_members(opened: tarfile.TarFile) -> list[Member]:
    """A tar's members, symlinks and hard links with their targets."""
    return [(m.name, m.linkname if m.issym() or m.islnk() else None, m.islnk())
            for m in opened.getmembers()]


def is_zip_link(info: zipfile.ZipInfo) -> bool:
    """Whether a zip member is a symbolic link (Unix mode bits; `zip -y`, macOS' ditto)."""
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def zip_links(opened: zipfile.ZipFile) -> dict[str, str]:
    """A zip's symlink members by name, each with its target (the member's content)."""
    return {i.filename: normalize("NFC", opened.read(i).decode("utf-8", "surrogateescape"))
            for i in opened.infolist() if is_zip_link(i)}


def outside_link(members: list[Member]) -> tuple[str, str] | None:
    """The first member that is or lies under a link that could lead outside, and why.

    The tar data filter checks links with os.path.realpath on the tree unpacked so far, which a
    chain of links fools before Python 3.11.13 (CVE-2025-4517); names read as text cannot be.
    """
    links = {"/".join(parts(name) or []) for name, target, _ in members if target is not None}
    for name, target, hard in members:
        found = parts(name) or []
        if any("/".join(found[:k]) in links for k in range(1, len(found))):
            return name, "lies under a link member, so writing it could land anywhere"
        # Symlinks are read from their own folder, tar hard links from the archive's root.
        start = [] if hard else found[:-1]
        if target is not None and not _stays_inside(start, target, links):
            return name, f"is a link to {target!r}, outside the folder"
    return None


def link_order(links: list[tuple[str, str, Path]]) -> list[tuple[str, str, Path]]:
    """`links` (member, target, dest), each after the links on its way or inside what it leads
    to (a link to a link, to a folder holding one): a copy made first would lack them."""
    at = {os.path.normpath(dest): k for k, (_, _, dest) in enumerate(links)}
    under: dict[str, set[int]] = {}  # a folder -> the links made inside it
    for path, k in at.items():
        for folder in Path(path).parents:
            under.setdefault(str(folder), set()).add(k)
    waits = []
    for k, (_, to, dest) in enumerate(links):
        source = Path(os.path.normpath(dest.parent / to))
        on_way = {at[str(p)] for p in (source, *source.parents) if str(p) in at}
        waits.append((on_way | under.get(str(source), set())) - {k})
    order: list[int] = []
    while len(order) < len(links):
        made = set(order)
        left = [k for k in range(len(links)) if k not in made]
        order += [k for k in left if waits[k] <= made] or left  # none ready: a cycle, as it is
    return [links[k] for k in order]


def link_or_copy(target: str, dest: Path) -> None:
    """A symlink at `dest` to `target` (checked to stay inside), or where the file system has
    none (exFAT, a CIFS share, Windows without the privilege) a copy of what it leads to, as
    tarfile does for a tar's links."""
    try:
        os.symlink(target, dest)
        return
    except OSError:
        pass
    source = dest.parent / target
    if source.is_dir():
        shutil.copytree(source, dest)
    elif source.is_file():
        shutil.copyfile(source, dest)
    else:  # a dangling link: nothing to copy, as a link it would lead nowhere either
        log.warning("%s: a link to %r, which the archive lacks; left out", dest, target)
