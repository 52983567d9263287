"""The data set's input channel count: grey, colour, or N bands alike in every image."""

from __future__ import annotations

from collections import Counter

from unet.common.bad_files import in_order, listed, sentence
from unet.common.decoders import band_count
from unet.common.imageio import GREY_MODES, ImageReadError, image_header, is_grey_image
from unet.common.pages import bands_words, colour_hyperstack_fix


def data_channels(pairs: list[dict]) -> int:
    """1 when every image is grey, else 3; N for multi-band TIFFs (all of N bands). Grey means
    one channel, or colour channels that are equal everywhere: the count must not depend on how
    a file happened to be saved. Headers settle most files; a colour file is decoded, and the
    first one in real colour ends it."""
    bands = {p["image"]: band_count(p["image"]) for p in pairs}
    if any(bands.values()):
        # the most common count is the data set's (ties: the first image's): one odd image
        # that came first named every good one as the odd ones
        common = Counter(bands.values()).most_common(1)[0][0]
        first = next(i for i, n in bands.items() if n == common)
        others = sorted((i for i, n in bands.items() if n != common), key=in_order)
        if others:  # every one named: a rerun per file found one more
            said = {i: bands_words(bands[i]) + _stacked_from(pairs, i) for i in (first, *others)}
            fix = ("the model takes one number of input channels; give every image the same "
                   "bands" + colour_hyperstack_fix(set(bands.values())))
            head = f"{first} has {said[first]} bands but "
            if len(others) == 1:
                raise ValueError(f"{head}{others[0]} has {said[others[0]]}: {fix}")
            lines = listed([f"{i} has {said[i]}" for i in others], "image(s)")
            raise ValueError("\n".join([f"{head}{len(others)} images do not:", *lines,
                                        sentence(fix)]))
        return bands[first]
    for p in pairs:
        try:
            if image_header(p["image"])[0] not in GREY_MODES and not is_grey_image(p["image"]):
                return 3
        except ImageReadError:  # named by the cache pass with every other: one at a time here
            continue
    return 1


def _stacked_from(pairs: list[dict], image: str) -> str:
    """The band files a band_files stack was written from: an odd one (an RGB file among grey
    ones, giving 6 bands where the others have 4) is named, not only the stack."""
    files = next((p.get("image_bands") for p in pairs if p["image"] == image), None)
    return f" (stacked from {', '.join(map(str, files))})" if files else ""
