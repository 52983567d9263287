"""The message naming every pair whose mask differs in size from its image (pair_reads: for
preprocess and download_dataset alike, so it lives in common/, below both).

A data set with several such masks stopped at the first one the cache reached: each fix and
rerun found the next. Headers only (no pixels), so the whole set costs seconds.
"""

from __future__ import annotations

from unet.common.bad_files import listed
from unet.common.decoders import ROTATED
from unet.common.imageio import exif_orientation


def mismatch_message(bad: list[tuple[str, str, tuple[int, int], tuple[int, int]]]) -> str:
    """The error for (image, mask, image size, mask size) rows: each named, then the fix."""
    lines = [f"{len(bad)} mask(s) differ in size from their image; masks must match their image:"]
    lines += listed([f"image {i} is {a[0]}x{a[1]} but its mask {m} is {b[0]}x{b[1]}"
                     + (" (its image's size turned a quarter)" if b == a[::-1] else
                        f" (its image downsampled {f}x)" if (f := downsampled(a, b)) else "")
                     for i, m, a, b in bad])
    lines.append("Resize each mask to its image's size (nearest neighbour, so no new values "
                 "appear), rotate one that is its image's size turned a quarter, or drop the "
                 "pair from the data set")
    if any(downsampled(a, b) for *_, a, b in bad):
        lines.append("A mask that is its image downsampled Nx comes from an export at a "
                     "downsample (QuPath's labelled-image export, downsample N): scaled up, its "
                     "class borders would be steps of N px; export the masks again at "
                     "downsample 1. Masks drawn on images reduced Nx (SCR's lung masks of "
                     "JSRT's 2048x2048 images, at 1024x1024) want the images reduced the "
                     "same way instead (N x N block means: `unet raw ... --bin N` for raw "
                     "files)")
    turned = [(i, a, b) for i, _, a, b in bad if b == a[::-1]]
    note = next((f"For image {i}: masks must match their image{n}" for i, a, b in turned
                 if (n := turned_note(i, a, b))), None)
    return "\n".join(lines + ([note] if note else []))


def downsampled(full: tuple[int, int], mask: tuple[int, int]) -> int:
    """The whole factor (2 and up) by which `mask` (w, h) is `full` scaled down, each side
    rounded either way as exporters round it; 0 where it is not such a copy."""
    factor = round(full[0] / max(mask[0], 1))
    if factor < 2:
        return 0
    return factor if all(abs(n / factor - m) < 1 for n, m in zip(full, mask, strict=True)) else 0


def turned_note(image: str, full: tuple[int, int], mask: tuple[int, int]) -> str:
    """Why a mask has its image's size transposed, when the image's EXIF orientation turns it."""
    orientation = exif_orientation(image)
    if mask != full[::-1] or orientation not in ROTATED:
        return ""
    return (
        f" as shown: the image's EXIF orientation {orientation} turns its stored {mask[0]}x"
        f"{mask[1]} pixels a quarter, and the mask matches the stored ones. If the masks were "
        "drawn on the stored pixels, drop the images' orientation tags (e.g. `exiftool "
        "-Orientation=1 -n FILE`); if on the photos as shown, turn the masks the same way"
    )
