"""Several mask files of one image merged into one, in the data's own values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.maskio import mask_header, mask_palette, read_mask_values, write_mask_png
from unet.common.stems import file_stem
from unet.dataset.layout import DataLayoutError, Layout, mask_suffixes
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import listing


def merge_masks(paths: Sequence[Path], dest: Path) -> Path:
    """Write the pixel-wise highest value of `paths` (one image's masks, all its size) to
    `dest` as a PNG: their union for binary masks, grey levels kept (8- or 16-bit) and palette
    indices with the first mask's palette. Colour masks are refused: their colours have no
    order to merge by."""
    merged, first = None, paths[0]
    for path in paths:
        values, packed = read_mask_values(path)
        if packed:
            raise DataLayoutError(
                f"{path} holds colours; further masks (mask_parts) are merged by their grey or "
                "palette values: save the masks as grey levels, or merge them into one file"
            )
        if merged is not None and values.shape != merged.shape:
            (h, w), (fh, fw) = values.shape, merged.shape
            raise DataLayoutError(
                f"{path} is {w}x{h} but {first} is {fw}x{fh}: the masks of one image must "
                "have its size; fix or remove the file"
            )
        merged = values if merged is None else np.maximum(merged, values)
    _, palette, alpha = mask_header(first)  # its colour table and transparency, one read
    _same_palette(paths, palette, np.unique(merged))
    write_mask_png(dest, merged, palette=palette, alpha=alpha)
    return dest


def _same_palette(paths: Sequence[Path], palette: tuple[int, ...] | None, used: np.ndarray) -> None:
    """Refuse masks of one image whose palettes show a used index in different colours: their
    indices would merge as if they meant one class."""
    entries = [3 * int(v) + k for v in used for k in range(3)]
    for path in paths[1:]:
        other = mask_palette(path)
        if (palette is None) != (other is None) or (
            palette is not None and any(palette[e] != other[e] for e in entries
                                        if e < len(palette) and e < len(other))
        ):
            raise DataLayoutError(
                f"{path} and {paths[0]} have different palettes (colour tables), so their "
                "indices mean different colours; save the masks of one image with one palette"
            )


def refuse_as_parts(root: Path, layout: Layout) -> None:
    """Refuse masks folders, read as parts of one mask, that hold images of the images
    folder too (BUSI's benign/, malignant/, normal/): each folder's images went unlisted and
    the other folders' masks were listed as images with no mask, with advice to rename."""
    if not layout.recursive:
        return
    img_dir = (root / layout.images).resolve()
    exts = {e.lower() for e in layout.image_extensions}
    for folder, suffix in zip(layout.masks, mask_suffixes(layout), strict=True):
        mask_dir = (root / folder).resolve()
        if img_dir != mask_dir and img_dir not in mask_dir.parents or not mask_dir.is_dir():
            continue
        tail = re.compile(f"{re.escape(suffix)}(?:{layout.mask_parts or ''})?$")
        held = sorted(f.name for f in mask_dir.iterdir() if f.suffix.lower() in exts
                      and (suffix or layout.mask_prefix)
                      and not (file_stem(f).startswith(layout.mask_prefix)
                               and tail.search(file_stem(f))))
        if held:
            raise DataLayoutError(
                f"the masks folder {mask_dir} holds images too ({listing(held)}), but several "
                f"masks folders are read as parts of one mask that every image needs in each; "
                f"if each folder is one class with its images (BUSI's benign/, malignant/, "
                f"normal/), set {layout.section}.mask_folders: classes"
            )


def pair_present(root: Path, layout: Layout, optional: bool = False,
                 ) -> list[tuple[str, Path, Any]]:
    """(id, image, its masks to unite, in the folders' order) under missing_part: absent: the
    files an image has in several masks folders, one it lacks (or, `optional`, a whole folder
    its {group} lacks: EndoVis's videos, each with its own instruments) a part absent. An
    image with no file in any folder is unpaired, or blank (missing_mask: empty)."""
    pairs = layout_module("classes").pair_class_folders(root, layout, optional)
    like = next((m for _, _, masks in pairs if isinstance(masks, dict)
                 for m in _listed(masks)), None)
    return [(pid, image, _listed(masks) if isinstance(masks, dict)
             else replace(masks, like=like, palette=None))  # blank: in the data's kind
            for pid, image, masks in pairs]


def _listed(masks: dict[int, Path | list[Path]]) -> list[Path]:
    """An image's masks by folder number as one list, in the folders' order."""
    return [p for k in sorted(masks) for p in (masks[k] if isinstance(masks[k], list)
                                               else [masks[k]])]
