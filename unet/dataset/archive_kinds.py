"""What a downloaded file that is neither zip nor tar is, by its first bytes."""

from __future__ import annotations

from pathlib import Path

_UNPACK_YOURSELF = ("Unpack it yourself and use dataset.source: local, or repack it as zip or "
                    "tar.")
# What a file that is no zip or tar starts with, what it is, and what to do.
_MAGIC = ((b"7z\xbc\xaf\x27\x1c", "a 7z archive, which is not unpacked here", _UNPACK_YOURSELF),
          (b"Rar!\x1a\x07", "a RAR archive, which is not unpacked here", _UNPACK_YOURSELF),
          (b"\x1f\x8b", "a gzip-compressed file with no tar archive in it", _UNPACK_YOURSELF),
          (b"BZh", "a bzip2-compressed file with no tar archive in it", _UNPACK_YOURSELF),
          (b"\xfd7zXZ\x00", "an xz-compressed file with no tar archive in it", _UNPACK_YOURSELF))


def other_kind(path: Path) -> tuple[str, str]:
    """What a file that is neither zip nor tar is, by its first bytes, and what to do."""
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return what, fix
    return ("cut off, or an HTML page?",
            "Point the URL at the archive itself and run again.")
