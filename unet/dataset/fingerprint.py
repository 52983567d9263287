"""What a local data folder's files hold, as one digest: a Snakemake param of download_dataset,
so that a file replaced by another of an older date makes the data set stale."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from unet.common.fileio import write_json


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(paths: list[Path], cache: Path) -> str:
    """One sha256 over the paths and contents of `paths`.

    Snakemake reruns a step when an input is newer than its output; rsync -a, cp -p, tar and
    unzip keep a file's own date, so a mask fixed last week and copied in today was passed by.
    A param of the contents catches that, and a file only touched changes nothing, as
    Snakemake's own checksums promise. Each file's digest is kept in `cache` under its size,
    times and inode, so only files changed since are read again (the status change time
    moves on every replacement and cannot be set back)."""
    try:
        known = json.loads(Path(cache).read_text())
    except (OSError, ValueError):
        known = {}
    seen, total = {}, hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        st = path.stat()
        key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        entry = known.get(str(path))
        digest = entry[1] if isinstance(entry, list) and entry[0] == key else _digest(path)
        seen[str(path)] = [key, digest]
        total.update(f"{path}\0{digest}\n".encode())
    if seen != known:  # a read-only resources/: the digests are read again next time
        with contextlib.suppress(OSError):
            write_json(cache, seen)
    return total.hexdigest()
