"""How a file name an annotation JSON writes (VIA's filename, COCO's file_name) finds its image
in the images folder: as written, else by its last part (a URL's decoded path, another machine's
path), with `recursive` anywhere below, of several of that name the one whose path ends as the
name does."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from unet.dataset.layout import DataLayoutError, Layout, files_with, folder_entries, nfc


def image_finder(img_dir: Path, layout: Layout, json: Path, field: str = "VIA filename",
                 below: list[Path] | None = None) -> Callable[[str], Path | None]:
    """Look a file name (`field` of the JSON `json`) up in `img_dir`: as written ('\\' read
    as '/'), else by its last part (a URL's decoded path, another machine's path), with
    `recursive` anywhere below (`below`: the images there, where already listed)."""
    by_name: dict[str, list[Path]] = {}
    if layout.recursive and img_dir.is_dir():
        for p in files_with(img_dir, layout.image_extensions, True) if below is None else below:
            by_name.setdefault(nfc(p.name), []).append(p)
    listed: dict[Path, dict[str, list[str]]] = {}  # each folder's entries by composed name

    def find(name: str) -> Path | None:
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]+://", name):  # a URL (one letter is C://, a drive)
            name = nfc(unquote(_url_path(name, json, field)))  # '?raw=true' dropped, '%20' a space
        name = name.replace("\\", "/")
        base = name.rsplit("/", 1)[-1]
        # an absolute path or URL is another machine's: only its name is looked for here,
        # unless it is this machine's path into the images folder (a subfolder's image)
        here = [] if name.startswith("/") or "://" in name or ":" in name[:2] else [name]
        here = _inside(img_dir, name) if name.startswith("/") else here
        for path in (_spelt(img_dir, p, listed) for p in (*here, base) if base):
            if path.is_file():
                return path
        return _one_below(by_name.get(nfc(base), []), nfc(name), img_dir, field)
    return find


def _inside(img_dir: Path, name: str) -> list[str]:
    """[`name`'s path below `img_dir`] where the absolute `name` lies in it, else []."""
    parts = [nfc(p) for p in Path(name).parts]
    for root in dict.fromkeys((img_dir.absolute(), img_dir.resolve())):
        top = [nfc(p) for p in root.parts]
        if parts[:len(top)] == top and len(parts) > len(top) and ".." not in parts:
            return ["/".join(parts[len(top):])]
    return []


def _spelt(folder: Path, name: str, listed: dict[Path, dict[str, list[str]]]) -> Path:
    """folder/name with each missing part the one entry of its folder of that name in another
    Unicode form (layout.on_disk), each folder listed once into `listed` for all the names a
    JSON holds: listing the images folder for each 'images/a.png' took hours for 118k."""
    path = folder
    for part in Path(name).parts:
        if not (path / part).exists():
            if path not in listed:
                listed[path] = {}
                for entry in folder_entries(path):
                    listed[path].setdefault(nfc(entry), []).append(entry)
            same = listed[path].get(nfc(part), [])
            part = same[0] if len(same) == 1 else part
        path = path / part
    return path


def _one_below(found: list[Path], name: str, img_dir: Path, field: str) -> Path | None:
    """The one image of a file name's name below `img_dir` (recursive): of several (s1/a.png,
    s2/a.png), the one whose path ends in the most of the name's parts (D:/scans/s1/a.png,
    or COCO's train2017/a.png for coco/train2017/a.png), else refused: the objects would be
    drawn on whichever came last."""
    if len(found) > 1:
        shared = {p: _common_end(p.relative_to(img_dir).parts, name.split("/")) for p in found}
        most = max(shared.values())
        ends = [p for p in found if shared[p] == most]
        if len(ends) != 1:
            raise DataLayoutError(
                f"{field} {name!r} names {len(ends)} images below {img_dir}: "
                f"{', '.join(map(str, ends))}; write its subfolder in the {field.split()[-1]} "
                f"(e.g. {ends[0].relative_to(img_dir).as_posix()}), or rename one of them")
        found = ends
    return found[0] if found else None


def _common_end(parts: tuple[str, ...], written: list[str]) -> int:
    """How many trailing parts a path below the images folder and a written name share."""
    n = 0
    while n < min(len(parts), len(written)) and nfc(parts[-1 - n]) == nfc(written[-1 - n]):
        n += 1
    return n


def _url_path(name: str, json: Path, field: str) -> str:
    """The path of a filename stored as a URL; one urllib cannot split (an IPv6 host's
    bracket left open) refused, naming the JSON and the filename."""
    try:
        return urlsplit(name).path
    except ValueError as err:  # urllib's bare "Invalid IPv6 URL" named neither
        raise DataLayoutError(f"{json}: {field} {name!r} is not a URL that can be read "
                              f"({err}); fix it in the JSON, or give the image's file name"
                              ) from None
