"""Several bad files found in one pass, refused in one error: each named, the shared fix once.

Checks that stopped at the first bad file made a user rerun once per file; a pass that reads
every file anyway collects them all at no extra cost.
"""

from __future__ import annotations

import os
import re
from typing import TypeVar

from unet.common.imageio import ImageReadError
from unet.common.pages import as_mask_message

E = TypeVar("E", bound=BaseException)
LISTED = 20  # bad files named one by one; the rest are counted

def listed(lines: list[str], unit: str = "pair(s)") -> list[str]:
    """The first LISTED of `lines`, indented, then the count of the rest."""
    out = [f"  {line}" for line in lines[:LISTED]]
    if len(lines) > LISTED:
        out.append(f"  ... and {len(lines) - LISTED} more {unit}")
    return out


def in_order(name: str) -> tuple:
    """A sort key of a file name with its numbers compared as numbers (img2 before img10), as
    file browsers list them: text order named img10..img19 before img2."""
    return tuple(int(part) if n % 2 else part for n, part in enumerate(re.split(r"(\d+)", name)))


# A full stop that ends no sentence: "(e.g. [0.5]); ..." shared by every message was cut there,
# leaving each line ending "(e.g" and the said-once fix starting mid-parenthesis.
_ABBREVIATED = re.compile(r"(?:\be\.g|\bi\.e|\betc|\bcf|\bvs)$")


def _closed(text: str) -> bool:
    """Whether `text` opens every bracket and quote it closes: a fix cut inside '(... ; ...)'
    left each line's parenthesis open and the fix ending in a stray one."""
    return all(text.count(a) == text.count(b) for a, b in ("()", "[]")) and not text.count("`") % 2


def _shared_fix(texts: list[str], files: list[str]) -> str:
    """The end every message shares from a sentence or clause on (its fix), or ''; never part
    of the file a message names (names alike from a '. ' on, '1. final.png', lost their start)."""
    ends = os.path.commonprefix([t[::-1] for t in texts])[::-1]
    start = len(texts[0]) - len(ends)  # where the shared end begins in the first message
    # the first index of the shared end past the last file name in every message
    named = max((t.rfind(f) + len(f) - (len(t) - len(ends))
                 for t, f in zip(texts, files, strict=True) if f and f in t), default=0)
    cut = next((k for k in range(max(named, 0), len(ends) - 1) if _closed(ends[k:]) and (
        ends[k : k + 2] == "; " or ends[k : k + 2] == ". "
        and not _ABBREVIATED.search(texts[0][: start + k]))), -1)
    return ends[cut:] if cut >= 0 and len(ends) - cut > 20 else ""


# A config key (masks.values, allow_unpaired) as a fix's first word: capitalised, it is a key
# that does not exist, and one a user would copy. (e.g. is a word, not a key.)
_KEY = re.compile(r"[a-z]\w*(?:\.[a-z]\w*)+(?![.\w])|[a-z]+_\w+")


def sentence(fix: str) -> str:
    """A fix written to follow a ';' as a sentence of its own: its first letter a capital,
    unless its first word is a config key (kept as written)."""
    return fix if _KEY.match(fix) else fix[:1].upper() + fix[1:]


def raise_all(errors: list[tuple[str, Exception]], what: str = "pairs cannot be cached",
              unit: str = "pair(s)") -> None:
    """Raise the errors (each keyed by its file, sorted by it) as one: one error as it is,
    several as one of their class (or the nearest class they share), the shared fix said once."""
    if not errors:
        return
    errors = sorted(errors, key=lambda e: in_order(str(e[0])))
    if len(errors) == 1:
        raise errors[0][1]
    texts = [str(err) for _, err in errors]
    fix = _shared_fix(texts, [str(key) for key, _ in errors])
    lines = [t[: len(t) - len(fix)] if fix else t for t in texts]
    fix = fix.lstrip(";. ")
    tail = [sentence(fix)] if fix else []
    message = "\n".join([f"{len(errors)} {what}:", *listed(lines, unit), *tail])
    raise _as_one([type(err) for _, err in errors], message)


def _as_one(kinds: list[type[Exception]], message: str) -> Exception:
    """`message` as an error of the nearest class every kind shares that is made from a
    message alone and shows it as given: rebuilt as kind(message), a class taking other
    arguments (NameClash, UnicodeDecodeError) raised a TypeError instead of the files."""
    for cls in kinds[0].__mro__:
        if not all(issubclass(k, cls) for k in kinds):
            continue
        try:
            err = cls(message)
        except TypeError:
            continue
        if str(err) == message:  # (KeyError's quotes the message: LookupError's does not)
            return err
    return ValueError(message)


def kept(err: E) -> E:
    """`err` without its stack frames, nor its causes': an error kept while a pass goes on
    held, through its frames, the arrays its file was decoded into (all files, if all bad)."""
    todo, seen = [err], set()
    while todo:
        e = todo.pop()
        if e is not None and id(e) not in seen:
            seen.add(id(e))
            e.__traceback__ = None
            todo += [e.__cause__, e.__context__]
    return err


MASK_FIX = "Replace or remove the file (and its image)."


def as_mask_error(err: ImageReadError) -> ImageReadError:
    """A mask's read error as the reader gave it for an image: called a mask, with a mask's
    fix (its image goes with it, not the reverse)."""
    problem = as_mask_message(err.problem)  # a hyperstack's channels: not band_files
    if not problem.startswith("cannot read image "):
        return err if problem == err.problem else ImageReadError(problem, err.fix)
    problem = "cannot read mask " + problem.removeprefix("cannot read image ")
    return ImageReadError(problem, MASK_FIX if err.fix else "")
