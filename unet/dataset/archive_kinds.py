"""What a downloaded file that is neither zip nor tar is, by its first bytes."""

from __future__ import annotations

import html
import re
from pathlib import Path

_UNPACK_YOURSELF = ("Unpack it yourself and use dataset.source: local, or repack it as zip or "
                    "tar.")
# What a file that is no zip or tar starts with, what it is, and what to do.
_MAGIC = ((b"7z\xbc\xaf\x27\x1c", "a 7z archive, which is not unpacked here", _UNPACK_YOURSELF),
          (b"Rar!\x1a\x07", "a RAR archive, which is not unpacked here", _UNPACK_YOURSELF),
          (b"\x1f\x8b", "a gzip-compressed file with no tar archive in it", _UNPACK_YOURSELF),
          (b"BZh", "a bzip2-compressed file with no tar archive in it", _UNPACK_YOURSELF),
          (b"\xfd7zXZ\x00", "an xz-compressed file with no tar archive in it", _UNPACK_YOURSELF))


_PAGE = (b"<!doctype html", b"<html", b"<head", b"<body")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_PAGE_FIX = ("The link opens a web page, not the file (Google Drive's virus-scan warning, a "
             "Dropbox link ending in ?dl=0, a sign-in page): give the file's direct download "
             "link (Dropbox: ?dl=1), or download it in a browser and give it as a file:// URL.")


def _web_page(head: bytes) -> str | None:
    """'a web page' and its title, when `head` starts an HTML page; else None."""
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_PAGE):
        return None
    title = _TITLE.search(head)
    text = " ".join(html.unescape(title.group(1).decode("utf-8", "replace")).split()) if title \
        else ""
    return f"a web page{f' titled {text[:80]!r}' if text else ''}"


def other_kind(path: Path) -> tuple[str, str]:
    """What a file that is neither zip nor tar is, by its first bytes, and what to do."""
    with open(path, "rb") as f:
        head = f.read(4096)
    page = _web_page(head)
    if page:
        return page, _PAGE_FIX
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return what, fix
    return ("cut off, or an HTML page?",
            "Point the URL at the archive itself and run again.")
