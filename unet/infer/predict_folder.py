"""Predict a folder of new images (no masks) with a trained experiment."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet.cache.preprocess import resize_image
from unet.cache.settings import PreprocessSettings
from unet.common.bad_files import raise_all
from unet.common.band_ranges import scale_of
from unet.common.bands import band_count, resize_bands
from unet.common.channels import channels_are_bands
from unet.common.fileio import drop_scratch
from unet.common.georef import SIDECAR, may_be_tiff, may_hold_nodata, write_georef
from unet.common.imageio import IMAGE_FIX, ImageReadError, image_header, open_image
from unet.common.labels import MaskMapping, mapping_from_meta
from unet.common.logs import progress
from unet.common.nodata import bands_nodata, image_nodata
from unet.dataset.layout import IMAGE_EXTENSIONS, visible_files
from unet.dataset.names import listing, system_file
from unet.dataset.per_id import images_in
from unet.infer.batches import Prepare, predict_batches
from unet.infer.extensions import extension_fix, images_below, other_images, unread_fix
from unet.infer.forward import PredictSettings, load_ensemble, tta_flips, window_for
from unet.infer.input_checks import (
    as_new_image,
    check_headers,
    warn_other_masks,
    warn_unprepared_values,
)
from unet.infer.out_checks import Bases, check_outputs, check_writable, mask_names, sync_masks
from unet.infer.resume import Record, mask_settings, written_names
from unet.infer.tiles import window_bands
from unet.infer.writer import PredictionWriter, check_masks_room
from unet.model.checkpoint import load_model_file

log = logging.getLogger(__name__)


def list_images(
    folder: str | os.PathLike, extensions: Sequence[str] = IMAGE_EXTENSIONS,
    roi: str | None = None, out_dir: str | os.PathLike | None = None, cli: bool = False,
    recursive: bool = False,
) -> list[Path]:
    """Image files directly in `folder` (and in its subfolders, `recursive`) with one of
    `extensions` (`image_extensions`), sorted, less the regions of interest `roi` (relative to
    `folder`) names; hidden files and folders (macOS's ._a.png) are not images. A clear error
    when there are none, naming the extensions it holds. The masks' folder `out_dir`, when
    inside, is not among the subfolders said to be left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder to predict {folder} does not exist; put the images there")
    images = images_in(folder, extensions, roi, recursive=recursive)
    down = "" if recursive else images_below(folder, extensions, roi, out_dir, cli)
    fix = "move them up, or predict each subfolder, or " + (
        "give --recursive" if cli else "set predict.recursive: true") + (
        " to predict them too, the subfolders mirrored")
    if images and down:
        log.warning("%s: only the folder's own images are predicted, and %s: not predicted "
                    "(%s)", folder, down, fix)
    others = other_images(folder, extensions)
    if images and others:
        log.warning("%s: %s not predicted: %s", folder, listing(others),
                    extension_fix(folder, others, extensions, cli))
    if not images:
        files = [p for p in visible_files(folder, recursive=False) if not system_file(p)]
        held = Counter(p.suffix.lower() or "no extension" for p in files)
        raise FileNotFoundError(
            f"no images ({', '.join(extensions)}) in {folder}"
            + (f"; it holds {', '.join(f'{e}: {n}' for e, n in sorted(held.items()))}: "
               + unread_fix(folder, others, files, extensions, cli) if held else "")
            + (f"; only its own files are read, and {down}: {fix}" if down else "")
        )
    return images


def model_input_size(ckpt: dict, full: tuple[int, int]) -> tuple[int, int]:
    """(w, h) the model takes an image of (w, h) `full` at: as its training data was cached."""
    w, h = ckpt["size"] or (0, 0)  # native models have no one size
    mode, scale = ckpt.get("mode") or "resize", ckpt.get("scale") or 1.0
    return PreprocessSettings(width=w, height=h, mode=mode, scale=scale).cached_size(full)


def _model_input(path: Path, ckpt: dict, channels: int, full: tuple[int, int] | None = None,
                 voids: dict | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """A new image prepared as the training data was, at the model's input size: (h, w, C)
    uint8, and its own (W, H) (`full`, when its header was read already). A multi-band model
    reads every band of a multi-band TIFF; its no-data, or a PNG's, in `voids` (write_georef's)."""
    span = scale_of(ckpt)  # the training images' range(s) (older models: none)
    if channels not in (1, 3) or band_count(path):  # a hyperstack of 3 channels too
        bands, void = bands_nodata(path, span)
        if voids is not None:
            voids[path] = void
        full = (bands.shape[1], bands.shape[0])
        return resize_bands(bands, model_input_size(ckpt, full)), full
    full = full or image_header(path)[1]  # (W, H) as shown
    size = model_input_size(ckpt, full)
    # A JPEG decoded at a DCT scale, as the cache decoded the training images (load_pair)
    image = open_image(path, draft_to=size, nodata=True, span=span)
    if voids is not None and may_hold_nodata(path) and not may_be_tiff(path):  # .png, .webp
        voids[path] = image_nodata(path, image)  # its alpha, before resize_image drops it
    return resize_image(image, size, channels, span), full


def roi_files(files: list[Path], template: str | None, key: str = "--roi",
              base: Bases = None) -> list[Path | None]:
    """Each image's region-of-interest file: `template` with the image's stem (under `base`,
    its new_id) for {id}; all Nones without one. A template without {id}, or a missing file,
    is refused, naming it and the setting `key` that gave the template (predict_files checks
    their sizes)."""
    if template is None:
        return [None] * len(files)
    if "{id}" not in template:
        raise ValueError(f"{key} {template!r} has no {{id}}: write each image's region of "
                         "interest with {id} for the image's file stem, e.g. 'mask/{id}_mask.gif'")
    ids = mask_names(files, base)  # <id>.png: the stem, or its path under its base (new_id)
    rois = [Path(template.replace("{id}", ids[f].removesuffix(".png"))) for f in files]
    missing = [str(r) for r in rois if not r.is_file()]
    if missing:
        raise ValueError(f"{key} {template}: no region-of-interest file {listing(missing)}; "
                         f"give every image one, or predict those without {key}")
    return rois


@contextmanager
def _new_images() -> Iterator[None]:
    """An image that cannot be read inside the block, advised as a new image: no mask."""
    try:
        yield
    except ImageReadError as err:
        if err.fix != IMAGE_FIX:
            raise
        raise as_new_image(err) from err.__cause__


def _predict_windows(models: list, files: list[Path], rois: list[Path | None], prepare: Prepare,
                     out_dir: Path, mapping: MaskMapping, how: tuple) -> Iterator[Path]:
    """Each image's mask by a patch-trained model's sliding window (`how`: window, flips, dtype,
    masks' names), one at a time, yielding each as its mask is written (not one `prepare` gives
    None)."""
    window, flips, dtype, masks = how
    for path, region in zip(files, rois, strict=True):
        if (prepared := prepare(path)) is None:
            continue
        x, full = prepared  # (h, w, C) uint8, (W, H)
        with PredictionWriter(out_dir / masks[path], None, mapping, x.shape[:2],
                              full[::-1], region) as out:
            for y, left, band in window_bands(models, x, window, flips, dtype):
                out.add(y, band, left)
        yield path


@_new_images()  # the images are new ones: what cannot be read has no mask to go with it
def predict_files(
    model_paths: list[str | os.PathLike],
    files: list[Path],
    out_dir: str | os.PathLike,
    settings: PredictSettings,
    threads: int = 1,
    label: str = "predict",
    roi: str | None = None,
    roi_key: str = "--roi",
    overwrite: bool = False,
    model_stat: list[int] | None = None,
    base: Bases = None,
) -> int:
    """Write out_dir/<stem>.png for every image file, each at its own original size and in the
    data's mask values (one model, or the averaged probabilities of cross-validation folds);
    class 0 outside each image's region of interest, where `roi` (the setting `roi_key`)
    names them (roi_files). An image whose mask the folder holds already, of the same models
    and settings and made since the image last changed (resume.py), is skipped; a folder of
    another model's or settings' masks is refused, or with `overwrite` emptied of them (every
    image is then predicted again). `model_stat`: the first model's stat (resume.model_stat),
    read by the caller, of the file hashed. `base`: the folder the files' subfolders are
    mirrored from, or each file's (mask_names). Returns the number of masks written."""
    out_dir, masks = Path(out_dir), mask_names(files, base)
    check_outputs(files, out_dir, masks)
    warn_other_masks(files, out_dir, masks)  # unet predict's -o of an earlier run
    rois = roi_files(files, roi, roi_key, base)
    record = Record(out_dir, model_paths, mask_settings(settings, roi), overwrite)
    if model_stat is not None:
        record.read_as(model_stat)
    todo = record.todo(files, rois, masks)
    if len(todo) < len(files):
        log.info("%d of %d images' masks are in %s already, of this model and these settings, "
                 "and newer than the images: skipped (--overwrite predicts them again)",
                 len(files) - len(todo), len(files), out_dir)
        again = set(todo)
        _missing_sidecars([f for k, f in enumerate(files) if k not in again], out_dir,
                          model_paths[0], record, masks)
    if todo:
        check_writable(out_dir)  # before any work; a folder with nothing to write may be read-only
        record.check_appendable()
        _predict_todo(model_paths, [files[k] for k in todo], [rois[k] for k in todo], out_dir,
                      settings, threads, label, record, masks)
    return len(todo)


def _missing_sidecars(skipped: list[Path], out_dir: Path, model: str | os.PathLike,
                      record: Record, masks: dict[Path, str]) -> None:
    """A skipped GeoTIFF scene's mask given the sidecar it lacks, or its no-data unmarked (masks
    made before 2026-12-06), as a first run writes it: no-data as the model's masks.ignore, the
    mask's new size recorded. Best effort (a read-only finished folder is still read); .png/.jpg
    unopened, and the model read only for a sidecar to write."""
    new, ignore, read, writable = [], None, False, os.access(out_dir, os.W_OK)
    for path in filter(may_be_tiff, skipped):
        mask, checked = out_dir / masks[path], record.checked(path)
        if Path(f"{mask}{SIDECAR}").exists() and (checked or not writable):
            continue  # a mask of before no-data marking (no line says checked): marked once
        if not read:  # the ensemble's models agree on the mapping (check_same_data)
            ignore, read = mapping_from_meta(load_model_file(model)).ignore, True
        before = mask.stat().st_mtime_ns
        try:  # nothing for a plain image: its header read once
            new += [f"{mask.name}{SIDECAR}"] * write_georef(path, mask, ignore)
            if not checked or mask.stat().st_mtime_ns != before:  # else --overwrite kept it
                record.done(path)
        except OSError as err:
            log.warning("%s: no georeferencing beside %s (%s)", path, mask, err.strerror)
    record.close()
    sync_masks(out_dir, new)  # else an empty one a power cut left was trusted for good


def _predict_todo(model_paths: list[str | os.PathLike], files: list[Path],
                  rois: list[Path | None], out_dir: Path, settings: PredictSettings,
                  threads: int, label: str, record: Record, masks: dict[Path, str]) -> None:
    """predict_files' work on the images to predict: each mask noted in `record` when whole."""
    models, ckpt, dtype = load_ensemble(model_paths, settings, threads)
    record.same_models()  # the weights loaded are those the record names
    if ckpt.get("roi") and rois[0] is None:
        log.warning("the model learnt within regions of interest (dataset roi) and nothing "
                    "outside them: give each image's (unet predict --roi, or predict.roi for "
                    "the predict_folder rule), or its masks outside them are guesses")
    headers = check_headers(files, rois, ckpt["in_channels"],  # each image's mode, (W, H)
                            channels_are_bands(ckpt))
    fulls = [full for _, full in headers]
    warn_unprepared_values(files, ckpt, [mode for mode, _ in headers])  # wider than the model
    mapping = mapping_from_meta(ckpt)
    channels, window = ckpt["in_channels"], window_for(ckpt, settings)
    flips, sizes = tta_flips(settings.tta, ckpt), [model_input_size(ckpt, f) for f in fulls]
    # A killed run's scratch (as large as a mask's values, or the probabilities at the model's
    # size): no Snakemake cleans this folder, so without this it stayed for good.
    drop_scratch(*(out_dir / masks[f] for f in files))
    check_masks_room(out_dir, [masks[f] for f in files], fulls, sizes, mapping, window)
    failed: list[tuple[str, Exception]] = []  # cut off mid-pixels: seen only when decoded

    def prepare(path: Path) -> tuple[np.ndarray, tuple[int, int]] | None:
        """The image's model input, or None, its error kept: the others are still predicted."""
        try:
            return _model_input(path, ckpt, channels, known[path], voids)
        except ImageReadError as err:
            failed.append((str(path), as_new_image(err)))
            return None

    # each header read once (check_headers); a multi-band scene's no-data from its one decode
    known, voids = dict(zip(files, fulls, strict=True)), {}
    if window is None:  # whole images: a batch of each input size, then each its own size
        written = predict_batches(models, files, rois, sizes, prepare, out_dir, mapping, flips,
                                  dtype, settings.batch_size, masks)
    else:  # patch-trained: a sliding window over each image, band by band
        written = _predict_windows(models, files, rois, prepare, out_dir, mapping,
                                   (window, flips, dtype, masks))
    record.begin()
    try:
        for path in progress(written, label, total=len(files)):
            write_georef(path, out_dir / masks[path], mapping.ignore, voids)  # before done
            record.done(path)
    finally:  # what a rerun skips on disk first; only these: the folder may hold 1000s more
        record.close()
        sync_masks(out_dir, written_names([masks[f] for f in files]))
    done = len(files) - len(failed)
    log.info("%d masks written to %s", done, out_dir)
    raise_all(failed, f"new images cannot be decoded (the {done} others' masks are written, "
              "each whole)", "image(s)")


def predict_folder(
    model_paths: list[str | os.PathLike],
    folder: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: PredictSettings,
    threads: int = 1,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    roi: str | None = None,
    recursive: bool = False,
) -> int:
    """Predict every image directly in `folder` (and, `recursive`, in its subfolders, mirrored
    in out_dir's) with one of `extensions` into out_dir/<stem>.png (see predict_files), class 0
    outside each image's region of interest where `roi` names them: a path relative to
    `folder` with {id} for the image's path there less its extension (new_id)."""
    files = list_images(folder, extensions, roi, out_dir, recursive=recursive)
    return predict_files(
        model_paths, files, out_dir, settings, threads, f"predict {Path(folder).name}",
        str(Path(folder) / roi) if roi else None, "predict.roi", base=Path(folder))
