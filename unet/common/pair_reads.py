"""What a pair's headers show without decoding: its mask's size or read error, files cut short.

Shared by preprocess's header pass and download_dataset's refusal of unreadable images, so
that one run names every bad file it can find cheaply (its georeferencing: pair_headers).
"""

from __future__ import annotations

import os
from pathlib import Path

from unet.common.bad_files import as_mask_error, in_order, kept, raise_all
from unet.common.imageio import ImageReadError, image_size, opened_image
from unet.common.pair_sizes import mismatch_message

# (signature, end) of formats whose whole files end in a fixed marker: PNG's empty IEND
# chunk, JPEG's end-of-image marker
ENDS = ((b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x00IEND\xaeB`\x82"), (b"\xff\xd8\xff", b"\xff\xd9"))


def cut_file(path: str | os.PathLike, what: str = "image") -> ImageReadError | None:
    """The read error of a PNG or JPEG that does not end in its end marker (a copy that
    stopped part way), as its decode gives it; None for a whole file, or one that decodes
    despite its end (bytes after the marker). Only suspects are decoded: one read each."""
    try:
        with open(path, "rb") as f:
            head, size = f.read(8), f.seek(0, os.SEEK_END)
            end = next((e for sign, e in ENDS if head.startswith(sign)), None)
            if end is None or size < 20:
                return None  # another format, or one its header read names
            f.seek(-len(end), os.SEEK_END)
            if f.read() == end:
                return None
        with opened_image(path) as im:
            im.load()
    except ImageReadError as err:
        err = as_mask_error(err) if what == "mask" else err
        err.kind = what  # raise_all's heading: images, masks or files
        return kept(err)
    except OSError:
        return None  # a file that cannot be opened: its header read names it
    return None


def mask_read(image: str, mask: str) -> tuple:
    """(the mask's (w, h) or its read error, [(file, read error)] of the pair's cut PNGs);
    errors kept (no frames) so that a whole set's can be held and named at once."""
    try:
        size = image_size(mask)
    except ImageReadError as err:
        return kept(as_mask_error(err)), []
    return size, [(f, e) for f, what in ((image, "image"), (mask, "mask"))
                  if (e := cut_file(f, what)) is not None]


def read_problems(pairs: list[dict], reads: list[tuple]) -> tuple[list, list[str]]:
    """(unreadable files as [(file, ImageReadError)], [the size mismatches' message]) of
    `pairs` (image, mask, the image's `size`) from their mask_read answers."""
    rows = list(zip(pairs, reads, strict=True))
    unread = [(p["mask"], s) for p, (s, _) in rows if isinstance(s, ImageReadError)]
    unread += [found for _, (_, cut) in rows for found in cut]
    sizes = sorted(((p["image"], mask_named(p), tuple(p["size"]), tuple(s)) for p, (s, _) in rows
                    if not isinstance(s, ImageReadError) and tuple(s) != tuple(p["size"])),
                   key=lambda row: in_order(row[0]))  # as raise_all lists the unread ones
    return unread, [mismatch_message(sizes)] if sizes else []


def mask_named(pair: dict) -> str:
    """A pair's mask as the user knows it: where download merged it from their files (class
    folders, mask_parts) into merged_masks/, those files, which a fix has to change."""
    parts = pair.get("mask_parts")
    return f"(merged from {', '.join(merged_files(parts))})" if parts else pair["mask"]


def merged_files(parts: str | list | dict) -> list[str]:
    """The files a merged mask was made of, flat: mask_parts' list, class folders' dict of a
    file or a list each, or a drawn mask's one table (mask_from)."""
    groups = parts.values() if isinstance(parts, dict) else [parts]
    return [str(f) for g in groups for f in (g if isinstance(g, list) else [g])]


def raise_unread(unread: list, others: list[str], first: str = "") -> None:
    """Raise one ImageReadError of `first` (an error's text already found), the unreadable
    files and the other problems' messages, where a file cannot be read; else nothing."""
    if not (others or first):  # unreadable files alone: raise_all's error as it is
        raise_all(unread, _what(unread))
        return
    try:
        raise_all(unread, _what(unread))
    except ImageReadError as err:
        first = "\n".join(filter(None, [first, str(err)]))
    if first:
        raise ImageReadError("\n".join([first, *others]))


def _what(unread: list) -> str:
    """How raise_all heads the list: masks or images where all are one kind, else files."""
    kinds = {getattr(err, "kind", "mask") for _, err in unread}
    return f"{kinds.pop()}s cannot be read" if len(kinds) == 1 else "files cannot be read"


def pair_files_problems(found: list[tuple], first: ImageReadError) -> None:
    """download_dataset's images could not all be read (`first` names them): raise one error
    adding what the headers of the other (image, mask, the image's size or None where it is
    unread) pairs with a mask file show."""
    # a mask not drawn from annotations, nor class folders; the images' sizes as read already
    pairs = [{"image": str(img), "mask": str(mask), "size": size} for img, mask, size in found
             if size is not None and isinstance(mask, (str, Path))]
    reads = [mask_read(p["image"], p["mask"]) for p in pairs]
    raise_unread(*read_problems(pairs, reads), first=str(first))
