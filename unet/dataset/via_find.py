"""How a VIA filename finds its image in the images folder: as written, else by its last part
(a URL's decoded path, another machine's path), with `recursive` anywhere below."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from unet.dataset.layout import DataLayoutError, Layout, files_with, nfc, on_disk


def image_finder(img_dir: Path, layout: Layout, json: Path) -> Callable[[str], Path | None]:
    """Look a VIA filename (of the JSON `json`) up in `img_dir`: as written ('\\' read as
    '/'), else by its last part (a URL's decoded path, another machine's path), with
    `recursive` anywhere below."""
    below: dict[str, list[Path]] = {}
    if layout.recursive and img_dir.is_dir():
        for p in files_with(img_dir, layout.image_extensions, True):
            below.setdefault(nfc(p.name), []).append(p)

    def find(name: str) -> Path | None:
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]+://", name):  # a URL (one letter is C://, a drive)
            name = nfc(unquote(_url_path(name, json)))  # '?raw=true' dropped, '%20' a space
        name = name.replace("\\", "/")
        base = name.rsplit("/", 1)[-1]
        # an absolute path or URL is another machine's: only its name is looked for here
        here = [] if name.startswith("/") or "://" in name or ":" in name[:2] else [name]
        for path in (on_disk(img_dir / p) for p in (*here, base) if base):
            if path.is_file():
                return path
        return _one_below(below.get(nfc(base), []), nfc(name), img_dir)
    return find


def _one_below(found: list[Path], name: str, img_dir: Path) -> Path | None:
    """The one image of a VIA filename's name below `img_dir` (recursive): of several (s1/a.png,
    s2/a.png), the one whose path below ends `name` (D:/scans/s1/a.png), else refused: the
    regions would be drawn on whichever came last."""
    if len(found) > 1:
        ends = [p for p in found if ("/" + name).endswith("/" + nfc(p.relative_to(img_dir)
                                                                     .as_posix()))]
        if len(ends) != 1:
            raise DataLayoutError(
                f"VIA filename {name!r} names {len(found)} images below {img_dir}: "
                f"{', '.join(map(str, found))}; write its subfolder in the filename (e.g. "
                f"{found[0].relative_to(img_dir).as_posix()}), or rename one of them")
        found = ends
    return found[0] if found else None


def _url_path(name: str, json: Path) -> str:
    """The path of a filename stored as a URL; one urllib cannot split (an IPv6 host's
    bracket left open) refused, naming the JSON and the filename."""
    try:
        return urlsplit(name).path
    except ValueError as err:  # urllib's bare "Invalid IPv6 URL" named neither
        raise DataLayoutError(f"{json}: filename {name!r} is not a URL that can be read "
                              f"({err}); fix it in VIA, or give the image's file name") from None
