"""`preprocess`: resize every pair once and cache each split as memory-mappable `.npy`."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from unet.cache import class_checks
from unet.cache.aspect import warn_stretched
from unet.cache.background_only import background_only_note, record_background_only
from unet.cache.band_intensity import bands_record, data_range, starved_bands_note
from unet.cache.cache_files import create_flat_files, create_split_files
from unet.cache.channel_count import data_channels
from unet.cache.detected import values_record
from unet.cache.fill_labels import fill_note, ignore_fill, read_scene, record_outside, unmarked_note
from unet.cache.intensity import intensity_units
from unet.cache.lost_classes import Resize, held_elsewhere, regions_of
from unet.cache.mapping import choose_mapping, class_names
from unet.cache.nearest import resize_mask
from unet.cache.pair_headers import check_pair_headers
from unet.cache.ragged import flat_offsets
from unet.cache.separate import object_ids, refuse_merged, separate_objects
from unet.cache.settings import PreprocessSettings
from unet.cache.thinned_strokes import full_labelled, thinned_note
from unet.common.bad_files import as_mask_error, kept, raise_all
from unet.common.band_ranges import scale_of
from unet.common.bands import resize_bands
from unet.common.channels import stacked_three
from unet.common.decoders import band_count
from unet.common.fileio import atomic_dir, read_json, write_json
from unet.common.imageio import ImageReadError, pixels, to_model_mode
from unet.common.label_tables import class_counts
from unet.common.labels import MaskMapping, MaskValueError
from unet.common.levels import pyramid_level  # a mask pyramid (PANDA's) read at its level
from unet.common.pair_sizes import turned_note
from unet.common.parallel import parallel_map
from unet.common.roi import scored_pixels
from unet.dataset.split import SPLITS

log = logging.getLogger(__name__)


def resize_image(
    im: Image.Image, size: tuple[int, int], channels: int, span: list[float] | None = None
) -> np.ndarray:
    """Area-then-bilinear resize to `size` (w, h); returns uint8 (h, w, channels); wide grey
    scaled by `span` (the data set's intensity range) when given."""
    im, mode = to_model_mode(im, span), "L" if channels == 1 else "RGB"
    im = im if im.mode == mode else im.convert(mode)  # PIL's convert to its own mode copies
    if im.size != tuple(size):  # native size: nothing to resample
        # reducing_gap: an integer box-reduce (area) then bilinear: faster and better than bilinear
        im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    arr = pixels(im)
    return arr[..., None] if arr.ndim == 2 else arr


def load_pair(job: tuple[dict, tuple[int, int], int, MaskMapping, list | None],
              separate: bool = False) -> tuple:  # load_pair_counted's image and class indices
    return load_pair_counted(job, separate)[:2]


def load_pair_counted(job: tuple[dict, tuple[int, int], int, MaskMapping, list | None],
                      separate: bool = False) -> tuple:
    """Decode one manifest pair at `size` (w, h): image uint8 (h, w, C), class indices (h, w);
    wide images scaled by the data set's range `span` (None: each by its own); touching objects
    parted (masks.separate) when `separate`; its labelled pixels at full size (full_labelled;
    None when cached at full size); its cached pixels outside its roi or on no-data fill."""
    pair, size, channels, mapping, span = job
    full = tuple(pair["size"])  # (w, h) from the manifest: the draft decode may shrink it
    multi = channels not in (1, 3) or band_count(pair["image"]) > 0  # 3-channel hyperstacks too
    # masks.ignore: the fill from this decode (a PNG's alpha, a TIFF's raw bands), not another
    image, void = read_scene(pair["image"], size, multi, mapping, span)
    plain = not (separate or pair.get("roi") or pair.get("ignore_regions"))  # else full size
    level_to = size if size != full and plain and pyramid_level(pair["mask"], size) else None
    try:
        raw = mapping.read(pair["mask"], level_to)  # (H, W): the full size or that level's
    except ImageReadError as err:
        raise as_mask_error(err) from err
    if level_to is None and full != (raw.shape[1], raw.shape[0]):
        raise MaskValueError(
            f"image {pair['image']} is {full[0]}x{full[1]} but its mask "
            f"{pair['mask']} is {raw.shape[1]}x{raw.shape[0]}; masks must match their image"
            + turned_note(pair["image"], full, (raw.shape[1], raw.shape[0]))
        )
    # Every pixel read at full size, before the resize samples one in several: a stray
    # colour or value it skipped was refused only by evaluate_masks, after training.
    whole = mapping.to_index(raw, source=f"mask {pair['mask']}")  # (H, W)
    index, inside, outside = resize_mask(whole, size), None, None  # (h, w)
    if separate:  # at the cached size, so that resizing cannot close the line
        small = resize_mask(object_ids(pair, raw), size)  # ids still apart
        separate_objects(small, index, mapping.values.index(min(mapping.values)))
    # outside the region of interest, inside the region to ignore: ignored, as masks.ignore is
    if (inside := scored_pixels(pair, raw.shape)) is not None:
        outside = ~resize_mask(inside, size)  # nearest, as the mask
    unreachable = ignore_fill(index, void, full, outside)  # masks.ignore: fill not learnt
    # counted here, where the mask read is in memory: no second read (thinned_strokes)
    labelled = None if size == full else full_labelled(whole, mapping.num_classes, inside, void,
                                                       full[0] * full[1])
    del whole  # not held through the image's resize
    cached = resize_bands(image, size) if multi else resize_image(image, size, channels, span)
    return cached, index, labelled, unreachable


def _split_meta(members: list[dict]) -> dict:
    """A split's entry in meta.json: its ids and original sizes, and its images' regions of
    interest where it has any (prediction says class 0 outside them)."""
    out = {"ids": [p["id"] for p in members], "orig_sizes": [p["size"] for p in members]}
    if any(p.get("roi") for p in members):
        out["rois"] = [p.get("roi") for p in members]
    return out


def preprocess(
    manifest_path: str | os.PathLike, split_path: str | os.PathLike, cache_dir: str | os.PathLike,
    settings: PreprocessSettings, processes: int = 1, tracked_as_null: bool | None = None,
) -> dict:
    """Resize and cache every split; returns (and writes) the cache's meta.json.
    `tracked_as_null`: the rule tracks masks.values as null (unet.cache.detected)."""
    manifest, split = read_json(manifest_path), read_json(split_path)
    cache_dir = Path(cache_dir)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    pairs = [by_id[i] for s in SPLITS for i in split[s]]
    # every unreadable, truncated, mismatched or misplaced pair at once, before decoding
    check_pair_headers(pairs, processes)
    warn_stretched([tuple(p["size"]) for p in pairs], settings)  # mode resize, mixed aspects
    channels = data_channels(pairs)
    # three channels of a hyperstack, of band files or of unet stack's minisblack TIFFs are
    # bands, not red, green and blue
    bands = channels == 3 and (band_count(pairs[0]["image"]) > 0
                               or any(p.get("image_bands") for p in pairs)
                               or any(stacked_three(p["image"]) for p in pairs))
    if settings.mask_separate:  # before any mask is read: merged masks hold no object ids
        refuse_merged(pairs)
    mapping = choose_mapping(pairs, settings, processes)
    log.info("%d channel(s); mask values %s -> classes 0..%d", channels,
             ", ".join(mapping.labels()), mapping.num_classes - 1)
    meta = _data_meta(settings, mapping, channels, manifest, split, pairs, processes)
    if bands:  # recorded only where true: colour data's meta.json is as it was
        meta["bands"] = True
    if settings.mask_separate:  # only where true, as bands: other caches' meta.json unchanged
        meta["mask_separate"] = True
    meta.update(values_record(pairs, settings, mapping, processes, tracked_as_null))
    # Every file goes to a scratch folder first and moves in only when all are written, meta.json
    # last: a failed or killed run never leaves a cache that looks complete.
    with atomic_dir(cache_dir, durable=True) as tmp_dir:
        jobs = []
        for name in SPLITS:
            members = [by_id[i] for i in split[name]]
            meta["splits"][name] = _split_meta(members)
            jobs += _split_jobs(tmp_dir, name, members, settings, channels, mapping, meta)
        # One pool for every split; each worker fills its rows of the files in place, so no
        # decoded image travels back through the pool and memory stays flat as the set grows.
        try:
            done = list(parallel_map(_cache_pair, jobs, processes, "cache", ordered=False))
        finally:
            _OPEN.clear()  # the serial path's own maps: close them before the files move
        raise_all([(image, err) for image, err, *_ in done if isinstance(err, Exception)])
        # (digest, counts, full-size labelled, pixels outside the roi or on no-data fill)
        cached = {i: tuple(rest) for i, *rest in done}
        _describe(meta, split, cached, mapping, settings, by_id)
        if note := starved_bands_note(meta, tmp_dir / "train_images.npy", settings):
            log.warning(note)
        write_json(tmp_dir / "meta.json", meta)
    return meta


def _data_meta(settings: PreprocessSettings, mapping: MaskMapping, channels: int, manifest: dict,
               split: dict, pairs: list[dict], processes: int) -> dict:
    """meta.json's description of the data, before any pixel is cached."""
    train = set(split["train"])
    native = settings.mode == "native"
    # masks.names refused here, before training, though a rename leaves the cache alone
    class_names(settings.class_names, manifest.get("class_names"), mapping)
    return {
        "mode": settings.mode,
        "scale": settings.scale if native else None,
        # One model input size (resize), or none: native images keep their own sizes.
        "size": None if native else [settings.width, settings.height],
        "in_channels": channels,
        "class_values": list(mapping.values),
        # A class of several values: each class's values, the written one first; else None.
        "class_groups": mapping.groups() if mapping.merged else None,
        "skip_unlisted": mapping.skip_unlisted,  # masks.unlisted: ignore
        "background": mapping.background,  # class 0 is background (masks.background)
        "num_classes": mapping.num_classes,
        "mask_threshold": settings.mask_threshold,
        "ignore_value": mapping.ignore,  # packed 0xRRGGBB for colour masks
        "mask_rgb": mapping.rgb,
        "mask_palette": list(mapping.palette) if mapping.palette else None,
        "mask_alpha": list(mapping.alpha) if mapping.alpha else None,  # its transparency
        "mask_bits": mapping.bits,
        **({"mask_tolerance": mapping.tolerance} if mapping.tolerance else {}),  # 0: not written
        # The data's names; masks.names, checked above, only label (common.labels.shown_names)
        "class_names": class_names(None, manifest.get("class_names"), mapping),
        "folds": split.get("folds", []),  # cross-validation folds (ids), when split.folds >= 2
        "intensity": settings.intensity,  # dataset: one range (None: 8-bit images only)
        # wide images' one (lo, hi) over the training images (intensity_bands each: one per
        # band); None: each by its own range
        "intensity_range": data_range([p["image"] for p in pairs if p["id"] in train],
                                      channels, settings, processes),
        **bands_record(settings),  # intensity_bands: each (joint: not written)
        # the units that range and the model's input are in: dicom, modality units
        "intensity_units": intensity_units([p["image"] for p in pairs if p["id"] in train]),
        **({"roi": True} if any(p.get("roi") for p in pairs) else {}),  # dataset roi
        "splits": {},
    }


def _describe(meta: dict, split: dict, cached: dict[str, tuple[str, np.ndarray]],
              mapping: MaskMapping, settings: PreprocessSettings, by_id: dict[str, dict]) -> None:
    """Add what the cached pixels are to `meta`, from each pair's digest and class counts:
    their digest (training resumes a last.pt only for the same content, not merely the same
    ids and sizes: a redrawn mask, a changed resize) and each class's share of the training
    masks, warning when detected values made the larger class class 1 or look like instance
    labels (one number per object)."""
    content = hashlib.sha256()
    for name in SPLITS:
        for i in split[name]:
            content.update(f"{name}/{i}:{cached[i][0]};".encode())
    meta["content"] = content.hexdigest()
    counts = sum((cached[i][1] for i in split["train"]), np.zeros(256, np.int64))
    chosen = bool(settings.mask_values) or settings.mask_threshold is not None
    train = [by_id[i]["mask"] for i in split["train"]]
    rois = [regions_of(by_id[i]) for i in split["train"]]  # and regions to ignore
    sizes = [tuple(by_id[i]["size"]) for i in split["train"]]
    resize = Resize(settings, sizes, held_elsewhere(split, cached, by_id, mapping.num_classes))
    meta["class_fractions"] = class_checks.describe_classes(counts, mapping, chosen, train, rois,
                                                            resize)
    pairs = [by_id[i] for i in split["train"]]  # new images' fill: learnt, or not markable
    if note := fill_note(pairs, mapping) or unmarked_note(pairs, mapping, cached):
        log.warning(note)
    meta["unlabelled"] = class_checks.unlabelled_ids(split, cached, mapping, by_id, settings)
    if note := thinned_note(split, cached, by_id, settings, mapping.num_classes):
        log.warning(note)
    if note := background_only_note(split, cached, mapping):
        log.warning(note)
    class_checks.record_counts(meta, cached)  # for training: which classes its rows hold
    record_outside(meta, cached)  # for the sparse-labels share: pixels no label can reach
    record_background_only(meta, cached, mapping)  # for CRF tuning's and the choice's sample
    class_checks.check_validation(split, cached, mapping, by_id)


def _split_jobs(folder: Path, name: str, members: list[dict], settings: PreprocessSettings,
                channels: int, mapping: MaskMapping, meta: dict) -> list[tuple]:
    """Create split `name`'s empty cache files; one job per pair to fill its place in them."""
    sizes = [settings.cached_size(tuple(p["size"])) for p in members]  # (w, h)
    if settings.mode == "native":
        shapes = [(h, w) for w, h in sizes]
        meta["splits"][name]["shapes"] = [list(s) for s in shapes]
        img, msk = flat_offsets(shapes, channels), flat_offsets(shapes, None)
        paths = create_flat_files(folder, name, (int(img[-1]), int(msk[-1])))
        pieces = zip(img, img[1:], msk, msk[1:], strict=False)  # offsets have one more entry
        spots = [(slice(a, b), slice(c, d)) for a, b, c, d in pieces]
    else:
        # the settings' one size, not sizes[0]: an empty part (a hand-written split) has none
        size = (settings.width, settings.height)
        paths = create_split_files(folder, name, len(members), size, channels)
        spots = [(k, k) for k in range(len(members))]
    # masks.separate parts the targets training fits and selects by; the test split's, as
    # the scores, stay the user's masks
    separate = settings.mask_separate and name != "test"
    return [
        (spot, p, size, channels, mapping, paths, scale_of(meta), separate)
        for spot, p, size in zip(spots, members, sizes, strict=True)
    ]


_OPEN: dict[str, np.memmap] = {}  # per process: maps stay open across the pairs it writes


def _cache_pair(job: tuple) -> tuple[str, str | Exception, np.ndarray | None, int | None, int]:
    """Decode, resize and map one pair, and write it into its place in the split's `.npy`
    files: row k of a stacked cache, or its slices of a flat (native) one. Returns the pair's
    id, a digest of its cached image and mask, its mask's count of each class index and its
    labelled pixels at full size (None: cached at full size) and its pixels outside its roi or
    on its fill; or its image, the error that refused it, and None."""
    spot, pair, size, channels, mapping, paths, span, separate = job
    try:
        *rows, labelled, outside = load_pair_counted((pair, size, channels, mapping, span),
                                                     separate)
    except (ImageReadError, MaskValueError) as err:  # the file's own: the others are found too
        return pair["image"], kept(err), None  # (its frames held the decoded pair)
    digest = hashlib.sha256()
    for row in rows:
        digest.update(np.ascontiguousarray(row).data)
    counts = class_counts(rows[1])
    for path, where, row in zip(paths, spot, rows, strict=True):
        if path not in _OPEN:
            _OPEN[path] = np.load(path, mmap_mode="r+")
        # A shared mapping: the page cache holds the write for every process, no flush needed.
        if isinstance(where, slice):
            _OPEN[path][where] = row.reshape(-1)
        else:
            _OPEN[path][where] = row
    return pair["id"], digest.hexdigest(), counts, labelled, outside
