"""Every bad pair a data set's headers show, found in one pass and refused in one error.

An unreadable mask, a mask of another size, a mask on another tile's grid and a truncated
PNG each stopped a run before the next check looked: one rerun per kind. Headers (and a
PNG's last 12 bytes) only, so the whole set costs seconds.
"""

from __future__ import annotations

from unet.cache.pair_places import pair_place, places_message
from unet.common.georef import same_place
from unet.common.labels import MaskValueError
from unet.common.pair_reads import mask_read, raise_unread, read_problems
from unet.common.parallel import parallel_map

CHUNK = 256  # pairs per task: a few headers each, well under a task's round trip


def _pair_headers(jobs: list[tuple[str, str]]) -> list[tuple]:
    """Each (image, mask)'s (mask_read's answer, (image place, mask place) or None)."""
    out: list[tuple] = []
    for image, mask in jobs:
        read = mask_read(image, mask)
        out.append((read, None if read[1] or not isinstance(read[0], tuple)
                    else pair_place(image, mask)))
    return out


def check_pair_headers(pairs: list[dict], processes: int = 1) -> None:
    """Refuse, in one error grouped by kind, every pair whose files cannot be read (empty,
    damaged header, truncated PNG), whose mask's size is not its image's manifest `size`, or
    whose mask lies elsewhere than its image (an ImageReadError where any file cannot be
    read, else a MaskValueError)."""
    jobs = [(p["image"], p["mask"]) for p in pairs]
    chunks = [jobs[k : k + CHUNK] for k in range(0, len(jobs), CHUNK)]
    done = parallel_map(_pair_headers, chunks, processes, "read headers", len(chunks))
    rows = [row for chunk in done for row in chunk]
    unread, others = read_problems(pairs, [read for read, _ in rows])
    places = [(p["image"], p["mask"], *pl) for p, (_, pl) in zip(pairs, rows, strict=True)
              if pl and not same_place(*pl)]
    others += [places_message(places)] if places else []
    if unread:
        raise_unread(unread, others)
    if others:
        raise MaskValueError("\n".join(others))
