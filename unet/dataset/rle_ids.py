"""CSV ids made from an image's path (rle.id_path): Kaggle's UW-Madison GI Tract names slice
train/case123/case123_day20/scans/slice_0001_266_266_1.50_1.50.png as case123_day20_slice_0001,
and its file stems repeat across cases and days, so they cannot be the ids."""

from __future__ import annotations

import re
from pathlib import Path

from unet.common.bad_files import raise_all
from unet.common.drop_keys import drop_keys
from unet.dataset.layout import DataLayoutError, Layout, files_with, nfc
from unet.dataset.names import listing

# a backslash written as a Windows folder separator: '\\scans', or '\scans' (whitespace,
# then 'cans') and '\(slice' (a literal parenthesis) where the next folder begins
BACKSLASH_SEPARATOR = re.compile(r"\\\\|\\(?=s\w|\()")


def slash_hint(pattern: str) -> str:
    """Advice for a `pattern` that separates folders with backslashes: paths are matched with
    '/' on every system, so such a pattern matches nothing (or is no regular expression)."""
    if not BACKSLASH_SEPARATOR.search(pattern):
        return ""
    meant = BACKSLASH_SEPARATOR.sub("/", pattern)
    return f"; paths are matched with '/' separators on every system, not '\\': write '{meant}'"


def id_regex(pattern: str, key: str) -> re.Pattern:
    """`pattern` (rle.id_path, unet predict --rle-id-path) compiled, refused by `key` where it
    is no regular expression or has no group to make the id of."""
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise DataLayoutError(f"{key} {pattern!r} is no regular expression ({err})"
                              + slash_hint(pattern)) from None
    if not regex.groups:
        raise DataLayoutError(f"{key} {pattern!r} has no group: put the parts of the path that "
                              "make the id in parentheses, e.g. "
                              r"'(case\d+_day\d+)/scans/(slice_\d+)'" + slash_hint(pattern))
    return regex


def path_id(regex: re.Pattern, rel: str) -> str | None:
    """The id `regex` makes of path `rel` ('/'-separated): its groups joined by '_', an
    optional group left out (no '__'); None where it does not match."""
    match = regex.search(nfc(rel))
    return None if match is None else "_".join(g for g in match.groups() if g)


def images_by_path_id(img_dir: Path, layout: Layout, pattern: str) -> dict[str, Path]:
    """The images in `img_dir` by the id `pattern` makes of each one's path below it (with
    '/'): its groups joined by '_'. A path it misses is refused (a stray file would otherwise
    pass unseen), as are two files given one id."""
    key = f"{layout.section}.rle.id_path"
    regex = id_regex(pattern, key)
    found: dict[str, Path] = {}
    missed, twice = [], []
    for path in files_with(img_dir, layout.image_extensions, layout.recursive):
        rel = nfc(path.relative_to(img_dir).as_posix())
        pid = path_id(regex, rel)
        if pid is None:
            missed.append(rel)
            continue
        if not pid or "/" in pid:  # '' or 'a/b' names no output file (masks/<id>.png)
            raise DataLayoutError(
                f"{key} {pattern!r} makes the id {pid!r} of {rel} (below {img_dir}); an id is "
                "a file name: let no group span a '/' (one group per folder level) and one "
                "group at least match every path")
        if pid in found:
            twice.append((str(path), DataLayoutError(
                f"{found[pid]} and {path} would have the same id {pid!r}; make {key} take the "
                "part of the path that tells them apart")))
            continue
        found[pid] = path
    if missed:
        raise DataLayoutError(
            f"{key} {pattern!r} matches none of {listing(missed)} (paths below {img_dir}); "
            f"widen it, or set {layout.section}.images to a folder of such images only"
            + slash_hint(pattern))
    raise_all(twice, "images would share an id", "file(s)")
    return found


def without_unset_id_path(settings: dict) -> dict:
    """A source's settings less rle.id_path where it is '' (ids are file names or stems), so
    that data sets made before the key existed keep their params and are not made again."""
    if (settings.get("rle") or {}).get("id_path", "") != "":
        return settings
    return drop_keys(settings, ["rle.id_path"])


def submission_ids(names: list[str], pattern: str, recursive: bool = False) -> list[str]:
    """`unet predict --rle-id-path`: the id `pattern` makes of each image's path (as --rle
    names it: its subpath under the folder given, with `recursive`), as rle.id_path makes the
    training CSV's. A path it misses, or two paths given one id, are refused before any mask
    is predicted: the competition's scorer would drop or merge them."""
    regex = id_regex(pattern, "--rle-id-path")
    ids = [path_id(regex, n) for n in names]
    missed = [n for n, i in zip(names, ids, strict=True) if i is None]
    if missed:  # with --recursive the folders are there already: only the regex can be at fault
        fix = ("widen it: each path is matched below the folder given, with '/' separators"
               if recursive else "give --recursive so each image's path keeps its folders "
               "(case123/case123_day20/scans/...), or widen it")
        raise DataLayoutError(f"--rle-id-path {pattern!r} matches none of {listing(missed)}; "
                              + fix + slash_hint(pattern))
    seen: dict[str, str] = {}
    for name, pid in zip(names, ids, strict=True):
        if pid in seen:
            raise DataLayoutError(f"--rle-id-path {pattern!r} gives {seen[pid]} and {name} one "
                                  f"id {pid!r}; make it take the part that tells them apart")
        seen[pid] = name
    return ids  # type: ignore[return-value]  # none is None: refused above
