"""Bands kept in a file each (38-Cloud's train_red/, train_green/, train_blue/ and train_nir/
folders; a microscope's one file per channel), stacked into one multi-band TIFF per image: the
data set's (band_files), and new images' for `unet predict` (`unet stack`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import imagecodecs
import numpy as np
import tifffile
from PIL import Image, ImageOps

from unet.common.decoders import is_tiff
from unet.common.fileio import atomic_dir, atomic_path, check_folder, make_folder
from unet.common.gdal_fill import tags_nodata
from unet.common.georef import (
    NODATA,
    carried_of_tags,
    geojp2_of,
    georef_of_tags,
    may_be_tiff,
    same_place,
)
from unet.common.imageio import named_file
from unet.common.jp2_boxes import JP2, warn_unplaced
from unet.common.stems import file_stem
from unet.dataset.layout import IMAGE_EXTENSIONS, DataLayoutError, Layout, files_with
from unet.dataset.names import id_of, listing
from unet.dataset.per_id import ID, check_template, files_per_id

FIX = "replace the file, or remove the image from the data folder"
# `unet stack`'s images: the data set's kinds, and JPEG 2000 as Sentinel-2 keeps each band
# (PIL decodes it with OpenJPEG)
STACK_EXTENSIONS = (*IMAGE_EXTENSIONS, ".jp2", ".j2k")


def with_bands(
    root: Path, layout: Layout, found: Sequence[tuple[str, Path, object]]
) -> list[tuple[str, list[Path], object]]:
    """Each pair with its image's own file, then one file per band_files template in their
    order; pairs missing one are refused (or, with allow_unpaired, skipped with a warning),
    naming the files."""
    key = f"{layout.section}.band_files"
    for template in layout.band_files:
        check_template(layout, key, template, "train_nir/nir_{id}.TIF",
                       "{group}_nir/nir_{id}.TIF")
    kept, files = files_per_id(root, layout, found, key, layout.band_files, "band file")
    return [(pid, [image, *files[pid]], mask) for pid, image, mask in kept]


class Band(NamedTuple):
    """One band file read once: its pixels, georeferencing, nodata value and carried tags."""

    arr: np.ndarray
    geo: tuple | None
    nodata: float | None
    tags: list[tuple]


def _one_band(path: Path) -> Band:
    """The file's bands, (H, W) or (H, W, N) samples last (RGB: a LEVIR-CD side), and tags."""
    pages = []  # a TIFF's axes besides rows, columns and samples: pages or slices, no bands
    with named_file(path, "band file", FIX):
        if path.suffix.lower() in (".tif", ".tiff") or may_be_tiff(path) and is_tiff(path):
            with tifffile.TiffFile(path) as tif:
                series, tags = tif.series[0], tif.pages[0].tags
                pages = [a for a in series.axes if a not in "YXSC"]  # series.axes: squeezed
                arr = np.squeeze(_samples_last(series.asarray(), series.axes))
                band = Band(arr, georef_of_tags(tags), tags_nodata(tags), carried_of_tags(tags))
        else:
            with Image.open(path) as im:
                im = im.convert(im.mode[:-1]) if im.mode in ("LA", "RGBA") else im  # alpha
                if im.mode not in ("L", "I", "I;16", "I;16B", "I;16L", "F", "RGB"):
                    raise DataLayoutError(
                        f"{path} is a {im.mode} image; band_files and unet stack take grey "
                        "(8- or 16-bit, or float) or RGB files: save it as one of them")
                band = Band(np.asarray(im), None, None, [])
            if path.suffix.lower() in JP2:  # its GeoJP2 box's GeoTIFF tags, where it has one
                band = Band(band.arr, *(geojp2_of(path) or (None, None, [])))
    if band.arr.ndim not in (2, 3) or pages:
        raise DataLayoutError(
            f"{path} holds an array of shape {band.arr.shape}, no image of bands (pages or "
            "slices?); band_files and unet stack take one image (H, W[, bands]) a file")
    return band


def _samples_last(arr: np.ndarray, axes: str) -> np.ndarray:
    """A TIFF's samples (S) or channels (C) moved last: GDAL's planar files read (S, H, W)."""
    for axis in "SC":
        if axis in axes:
            return np.moveaxis(arr, axes.index(axis), -1)
    return arr


def _split_bands(paths: Sequence[Path], read: list[Band]) -> tuple[list[Path], list[Band]]:
    """One entry per band: a file of several bands (the after image of a pair, RGB) gives
    each in order, with its file's path, place, nodata and tags."""
    out_paths, out = [], []
    for path, band in zip(paths, read, strict=True):
        planes = [band.arr] if band.arr.ndim == 2 else np.moveaxis(band.arr, -1, 0)
        out_paths += [path] * len(planes)
        out += [band._replace(arr=plane) for plane in planes]
    return out_paths, out


def stack_bands(job: tuple[Sequence[Path], Path]) -> Path:
    """Write one image's band files, all one size and sample type, as a multi-band TIFF
    (minisblack, bands last) at `dest`, atomically, with the first georeferenced file's (else
    the first file's) GeoTIFF tags (one grid for all its bands) and one nodata value
    (_one_fill; `nodata`, where given, the fill of the files that declare none: Sentinel-2's 0).
    Each file is opened once."""
    paths, dest, *declared = job  # (paths, dest[, nodata])
    nodata = declared[0] if declared else None
    # one file: an image alone, band_nodata's, written whole (its every band) with the fill
    read, colour = ([_one_band(Path(p)) for p in paths], False) if len(paths) > 1 \
        else _lone_image(Path(paths[0]))
    if len(paths) > 1:  # a band apiece below: their sizes, places and fills checked alike
        paths, read = _split_bands(paths, read)
    bands = [b.arr for b in read]
    first = bands[0]
    for path, band in zip(paths[1:], bands[1:], strict=True):
        if band.shape != first.shape or band.dtype != first.dtype:
            _mismatch(path, band, paths[0], first)
    if nodata is not None and not _held(nodata, first.dtype):
        raise DataLayoutError(
            f"the declared nodata value (band_nodata, unet stack --nodata) {nodata:g} cannot be "
            f"held by {paths[0]}'s {first.dtype} samples: declare one they can (0 for "
            "Sentinel-2's reflectances), or none")
    placed = _one_place(paths, [b.geo for b in read])
    fills = [nodata if b.nodata is None else b.nodata for b in read]
    bands, filled = _one_fill(paths, bands, fills)
    tags = [t for t in read[placed].tags if t[0] != NODATA]
    if filled is not None:  # the fill the stack keeps: its file's own nodata tag (a plain
        # first file's -9999, beside georeferenced bands without), else the declared value
        own = [t for t in read[filled].tags if t[0] == NODATA]
        tags += own or [(NODATA, "s", 0, f"{fills[filled]:.17g}", True)]
    make_folder(dest.parent)
    with atomic_path(dest) as tmp:
        tifffile.imwrite(tmp, bands[0] if len(bands) == 1 else np.stack(bands, axis=-1),
                         photometric="rgb" if colour else "minisblack", planarconfig="contig",
                         extratags=tags)
    return dest


def _lone_image(path: Path) -> tuple[list[Band], bool]:
    """An image file read whole, as band_nodata writes it without band_files: its samples
    (H, W[, N]) at their own depth (a .jp2 by OpenJPEG: PIL cuts 16-bit colour to 8), its
    tags (a .jp2's GeoJP2 box's), and whether it is colour (written as RGB, not as bands)."""
    with named_file(path, "image", FIX):
        if path.suffix.lower() in (".tif", ".tiff") or may_be_tiff(path) and is_tiff(path):
            with tifffile.TiffFile(path) as tif:
                series, tags = tif.series[0], tif.pages[0].tags
                arr = _samples_last(series.asarray(), series.axes)
                colour = tif.pages[0].photometric == 2  # RGB
                return [Band(arr, georef_of_tags(tags), tags_nodata(tags),
                             carried_of_tags(tags))], colour
        if path.suffix.lower() in JP2:
            arr = imagecodecs.jpeg2k_decode(path.read_bytes())
        else:
            with Image.open(path) as im:
                im = ImageOps.exif_transpose(im)  # as shown: as the pair's size and mask are
                im = im.convert(im.mode[:-1]) if im.mode in ("LA", "RGBA") else im  # alpha
                if im.mode not in ("L", "I", "I;16", "I;16B", "I;16L", "F", "RGB"):
                    raise DataLayoutError(
                        f"{path} is a {im.mode} image, which band_nodata does not write: "
                        "save it as grey or RGB, or set band_nodata: null")
                arr = np.asarray(im)
    geo = geojp2_of(path) if path.suffix.lower() in JP2 else None
    return [Band(arr, *(geo or (None, None, [])))], arr.ndim == 3 and arr.shape[-1] == 3


def _mismatch(path: Path, band: np.ndarray, first_path: Path, first: np.ndarray) -> None:
    """Refuse a band of another size or sample type than the image's first, naming the fix: a
    band of a coarser resolution (Sentinel-2's 20 m B11 beside its 10 m B02) is resampled to
    the first's grid beforehand, which band_files does not do (one grid, no guessed filter)."""
    (h, w), (fh, fw) = band.shape, first.shape
    head = f"{path} is {w}x{h} {band.dtype} but {first_path} is {fw}x{fh} {first.dtype}: "
    if (h, w) == (fh, fw):
        raise DataLayoutError(f"{head}the bands of one image must share its sample type; {FIX}")
    ratio = fw / w
    how = (f"1/{ratio:g} of its size, a coarser resolution" if ratio > 1 and fh / h == ratio
           and ratio == int(ratio) else "another grid")
    raise DataLayoutError(
        f"{head}it is {how}, and the bands of one image must share its size; resample it to "
        f"the first band's grid first (gdal_translate -outsize {fw} {fh} -r bilinear "
        f"{path.name} {path.stem}.tif, -r nearest for classes such as a scene "
        "classification), and name that file, or leave the band out")


def _held(value: float, dtype: np.dtype) -> bool:
    """True where samples of `dtype` can hold `value` (NaN: float samples only)."""
    with np.errstate(invalid="ignore"):
        cast = np.asarray(value).astype(dtype)
    return bool(cast == value or np.isnan(value) and np.isnan(cast))


def _one_fill(paths: Sequence[Path], bands: list[np.ndarray],
              fills: list[float | None]) -> tuple[list, int | None]:
    """The bands with each file's own nodata fill (`fills`) set to the stack's one, and the
    index of the file it is from: the first file's fill that no other band holds as data (a
    DEM's real 0s beside a red band filled with 0 read as missing), else the first's. Another
    band's -9999 kept would read as data."""
    own = [(k, f) for k, f in enumerate(fills) if f is not None]
    if not own:
        return bands, None
    free = [(k, f) for k, f in own if _held(f, bands[0].dtype) and not any(
        (b == f).any() for b, g in zip(bands, fills, strict=True) if g != f)]
    filled, kept = (free or own)[0]
    out = []
    for path, band, fill in zip(paths, bands, fills, strict=True):
        if fill is not None and fill != kept and not np.isnan(fill) and (band == fill).any():
            if not _held(kept, band.dtype):
                raise DataLayoutError(
                    f"{path}'s nodata value {fill:g} differs from the stack's {kept:g}, which "
                    f"its {band.dtype} samples cannot hold: give the band files of one image "
                    f"one nodata value (gdal_translate -a_nodata); {FIX}")
            band = np.where(band == fill, np.asarray(kept).astype(band.dtype), band)
        out.append(band)
    return out, filled


def _one_place(paths: Sequence[Path], geos: list[tuple | None]) -> int:
    """The index of the band file whose tags the stack keeps: the first georeferenced one (a
    plain first file, the image exported as a PNG, gave a stack of no place), else the first.
    Band files georeferenced to different places (a neighbouring tile's, another CRS's) are
    refused: the stack keeps one grid, and the others' pixels would be shown there."""
    placed = [(k, g) for k, g in enumerate(geos) if g]
    for k, other in placed[1:]:
        path, first, geo = paths[k], paths[placed[0][0]], placed[0][1]
        if not same_place(geo, other):
            raise DataLayoutError(
                f"{path} lies elsewhere than {first} (geotransform {_place(other)} against "
                f"{_place(geo)}): the bands of one image must share its place and grid; check "
                f"that each band file named is this image's, or {FIX}")
    return placed[0][0] if placed else 0


def _place(geo: tuple) -> str:
    """A georef_of answer in words: its geotransform, and its CRS where named."""
    grid, crs = geo
    return f"({', '.join(f'{v:.10g}' for v in grid)})" + (f" in {crs}" if crs else "")


def _new_image_bands(folder: Path, templates: Sequence[str], prefix: str,
                     suffix: str) -> dict[str, list[Path]]:
    """Each image directly in `folder` (named prefix + id + suffix) by id: its file, then the
    file each template names for its id. Refused, naming the files, unless all are there."""
    for template in templates:
        check_template(None, "band template", template, "test_nir/nir_{id}.TIF")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of images")
    images = files_with(folder, STACK_EXTENSIONS)
    if not images:
        raise FileNotFoundError(f"no images ({', '.join(STACK_EXTENSIONS)}) in {folder}")
    named = {p: id_of(file_stem(p), prefix, suffix) for p in images}
    ids = {p: i for p, i in named.items() if i is not None}
    # the further bands may share the folder (Sentinel-2's R10m/ holds B02, B03, B04, B08)
    theirs = {Path(t.replace(ID, i)).resolve() for i in ids.values() for t in templates}
    odd = [str(p) for p, i in named.items() if i is None and p.resolve() not in theirs]
    if odd:
        raise DataLayoutError(f"{listing(odd)} are not named {prefix}<id>{suffix}: give "
                              "--prefix and --suffix around each image's id")
    if len(set(ids.values())) < len(ids):
        raise DataLayoutError(f"{folder} holds two files of one id (one name, two "
                              "extensions): keep one")
    bands = {i: [p, *(Path(t.replace(ID, i)) for t in templates)] for p, i in ids.items()}
    missing = [str(b) for paths in bands.values() for b in paths[1:] if not b.is_file()]
    if missing:
        raise FileNotFoundError(f"no band file {listing(missing)}: each image needs one file "
                                f"per template, its id in place of {ID}; nothing was written")
    return bands


def stack_folder(folder: str | os.PathLike, templates: Sequence[str], out_dir: str | os.PathLike,
                 prefix: str = "", suffix: str = "", nodata: float | None = None
                 ) -> list[Path]:
    """Stack each image directly in `folder` (named prefix + id + suffix) with the file each
    of `templates` names for its id (a path with {id}) into out_dir/<id>.tif, as band_files
    does for the data set (`nodata`: as band_nodata); returns the files. All appear or none:
    every image and band is checked first, what is in `out_dir` already is never overwritten,
    and the stacks move in only when all were written."""
    if Path(out_dir).is_file():
        raise FileExistsError(f"{out_dir} is a file; the stacks go into a folder of <id>.tif "
                              "files: name a folder (new, or holding none of them)")
    check_folder(out_dir)  # a file above it, or no permission: named before any work
    bands = _new_image_bands(Path(folder), templates, prefix, suffix)
    warn_unplaced((p for paths in bands.values() for p in paths), str(folder))
    outs = {i: Path(out_dir) / f"{i}.tif" for i in bands}
    taken = [str(o) for o in outs.values() if o.exists()]
    if taken:
        raise FileExistsError(f"{listing(taken)} exist; stack into an empty folder, or move "
                              "them away first")
    with atomic_dir(out_dir) as scratch:
        for i, paths in bands.items():
            stack_bands((paths, scratch / outs[i].name, nodata))
    return sorted(outs.values())
