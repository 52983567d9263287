"""`download_dataset`: bring a data set into place and write its manifest of pairs."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from unet.common.bad_files import as_mask_error, kept, raise_all
from unet.common.fileio import write_json
from unet.common.imageio import ImageReadError
from unet.common.jp2_boxes import warn_unplaced
from unet.common.parallel import parallel_map
from unet.dataset.layout import (
    TABLES,
    DataLayoutError,
    Layout,
    layout_from,
    layout_on_disk,
    local_root,
)
from unet.dataset.layout_kinds import layout_module
from unet.dataset.pairing import pair_files
from unet.dataset.precheck import image_sizes, record_digest
from unet.dataset.sources import source_module

log = logging.getLogger(__name__)


def _data_root(data: Path, sub: str, source: str) -> Path:
    """`data`/`sub`, refusing a `sub` that would leave the unpacked tree."""
    parts = Path(sub).parts
    if Path(sub).is_absolute() or ".." in parts:
        raise DataLayoutError(
            f"dataset.{source}.root {sub!r}: give a folder inside the unpacked archives "
            "(relative, without '..'), or '' for their top level"
        )
    return data.joinpath(*parts)


def _check_local_path(root: Path) -> None:
    """Refuse a dataset.local.path that is missing or a file (the archive itself), by key:
    every layout would otherwise name only a folder inside it."""
    if root.is_file():
        raise DataLayoutError(f"dataset.local.path {root} is a file, not a folder: unpack it "
                              "there, or for a zip or tar use dataset.source: url with url: "
                              f"{root.resolve().as_uri()}")
    if not root.is_dir():
        raise DataLayoutError(f"dataset.local.path {root} does not exist; give the folder that "
                              "holds the images and masks")


def _check_utf8(image: Path, pid: str) -> None:
    """Refuse an image whose name is not UTF-8 (b'caf\\xe9.png', named in cp1252 or latin-1):
    its id would hold a lone surrogate, which every later step that writes text fails on."""
    for text in (str(image), pid):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise DataLayoutError(
                f"the name of {os.fsencode(image)!r} is not UTF-8 (made in another encoding, "
                "such as Windows' cp1252); ids and outputs need UTF-8 names: rename it and its "
                "mask (e.g. convmv -f cp1252 -t utf-8 -r --notest <folder>)"
            ) from None


def _fetch(source: str, settings: dict[str, Any], dest: Path) -> list[dict]:
    """Download and unpack the archives of a `url` or `kaggle` source into dest/data."""
    code = source_module(source)  # dataset.url or dataset.kaggle
    if source == "url":
        return code.fetch_archives(settings["archives"], dest)
    files = list(settings.get("files", code.CARVANA_FILES))
    return code.fetch_competition(settings.get("competition", code.CARVANA), files, dest)


def _merge(job: tuple[Any, Path]) -> Any:
    """Write one image's mask from its parts: class folders, a table's objects (and their
    ids), or masks to unite; each by its layout kind's module."""
    parts, dest = job
    if isinstance(parts, dict):
        return layout_module("classes").merge_classes(parts, dest)
    if isinstance(parts, tuple):  # kind (a TABLES key, or blank), drawn, image, size[, ids]
        write = getattr(layout_module(parts[0]), f"write_{parts[0]}_mask")
        return write(*parts[1:4], dest, *parts[4:])  # ids: where its objects' ids go
    return layout_module("merge").merge_masks(parts, dest)


def _drawn(layout: Layout) -> str | None:
    """The layout kind whose masks are drawn from a table (TABLES), or None."""
    return next((k for k in TABLES if getattr(layout, k)), None)


def _class_names(layout: Layout, masks: list) -> dict[str, str] | None:
    """Names by class value where the data gives them: COCO category names, class names in a
    CSV of encodings, or the folder names of class folders; class 0 is the background."""
    if masks and _drawn(layout) and masks[0].names:
        return {"0": "background", **{str(k): n for k, n in masks[0].names}}
    if layout.mask_folders == "classes":
        named = enumerate(layout.mask_dirs, 1)
        return {"0": "background", **{str(k): Path(f).name for k, f in named}}
    return None


def _kept(job: tuple[Any, Any]) -> Path | Exception:
    """Write one image's file (a merged or drawn mask, stacked bands); its bad input returned,
    not raised, so that the pass goes on to name every bad image at once."""
    func, item = job
    try:
        return func(item)
    except DataLayoutError as err:  # kept without its frames, which held the decoded masks
        return kept(err)
    except ImageReadError as err:  # a mask's (merged or class masks), called one
        return kept(as_mask_error(err) if func is _merge and isinstance(item[0], list | dict)
                    else err)


def _write_all(func: Any, jobs: list, processes: int, desc: str, what: str,
               said: Any = None) -> None:
    """Run func on every job, `processes` at a time; `said` given what the written ones
    returned (a warning of the whole pass, before the refusal), the bad ones refused together."""
    done = list(parallel_map(_kept, [(func, job) for job in jobs], processes, desc))
    if said is not None:
        said([out for out in done if not isinstance(out, Exception)])
    raise_all([(str(job[1]), out) for job, out in zip(jobs, done, strict=True)
               if isinstance(out, Exception)], what, "image(s)")


def _as_stack(pair: dict, bands: list[Path], dest: Path) -> None:
    """Point a pair at its stack `dest`, noting its band files (band_nodata's image alone: the
    file it is a copy of, as image_from)."""
    pair["image"] = str(dest)
    pair.setdefault(*(("image_bands", [str(b) for b in bands]) if len(bands) > 1
                      else ("image_from", str(bands[0]))))


def _write_files(merges: list, stacks: list, drawn: str | None, processes: int) -> None:
    """Write the merged or drawn masks and the stacked band files, `processes` at a time;
    the images whose files cannot be written are named in one error (sorted by id)."""
    said = None  # told of the masks drawn: RLE overlaps, counted as drawn (rows decoded once)
    if drawn == "rle":
        said = layout_module("rle", "dataset.rle_overlap").check_rows([j[1:4] for j, _ in merges])
    if drawn in ("qupath", "geojson", "wkt"):  # said once, here, not per image by the workers
        layout_module(drawn).note_outside([job[1:4] for job, _ in merges])
    _write_all(_merge, merges, processes, "merge masks",
               f"masks cannot be {'drawn' if drawn else 'merged'}", said)
    if stacks:
        stack = layout_module("band_files").stack_bands
        _write_all(stack, stacks, processes, "stack bands", "images' bands cannot be stacked")


def _paired(root: Path, layout: Layout, dest: Path, processes: int, ignore: Any
            ) -> tuple[Layout, list, dict[str, dict[str, str]]]:
    """The layout as spelt on disk, the pairs under `root` (with their band files) and what the
    manifest notes by id: its region of interest (`roi`: outside it nothing is learnt or scored) and
    to ignore (`ignore_regions`: nothing learnt or scored there), the LabelMe JSON whose imageData
    held its image (`image_from`), written to `dest`/embedded_images first. COCO images without an
    object are named by id, and LabelMe's and QuPath's don't-care labels given masks.ignore's value
    `ignore`."""
    found = pair_files(root, layout := layout_on_disk(root, layout))
    # don't-care labels refused without masks.ignore before anything is written
    if (drawn := _drawn(layout)) in ("labelme", "qupath", "xml", "geojson", "wkt"):
        found = layout_module(drawn, "dataset.json_masks").with_ignore(found, ignore, drawn)
    held: dict = {}
    if layout.labelme:
        found, held = layout_module("labelme", "dataset.labelme_images").write_embedded(
            found, dest / "embedded_images", processes)
    if layout.band_files:
        found = layout_module("band_files").with_bands(root, layout, found)
    elif layout.band_nodata is not None:  # each image alone written with the declared fill
        found = [(pid, [img], mask) for pid, img, mask in found]
    # GMLJP2 alone (Sentinel-2's .jp2) is not read: said once, naming the files
    warn_unplaced((p for _, b, _ in found for p in (b if isinstance(b, list) else [b])), str(root))
    noted: dict = {}
    if layout.roi or layout.ignore_regions:  # each image's region of interest, or to ignore
        found, noted = layout_module("roi").noted_regions(root, layout, found)
    if layout.coco:  # here, where ids have their group in front, as split.exclude_ids takes
        layout_module("coco").note_empty(found)
    for pid, json_path in held.items():
        noted.setdefault(pid, {})["image_from"] = str(json_path)
    return layout, found, noted


def _drawn_job(pair: dict, drawn: str, mask: Any, img: Path, merged: Path, objects: bool) -> tuple:
    """The job drawing a pair's mask from its table into `merged`, noted in `pair`; with
    `objects`, its objects' ids beside it (an RLE row's: each row one object)."""
    dest, ids = merged / f"{pair['id']}.png", merged / f"{pair['id']}.objects.tif"
    pair.update(mask=str(dest), mask_from=str(mask.csv if drawn == "rle" else mask.json))
    if not objects:
        return (drawn, mask, img, tuple(pair["size"])), dest
    pair["mask_objects"] = str(ids)
    return (drawn, mask, img, tuple(pair["size"]), ids), dest


def write_manifest(
    manifest_path: str | Path,
    source: str,
    root: Path,
    layout: Layout,
    extra: dict[str, Any] | None = None,
    processes: int = 1,
    blank: int | tuple[int, int, int] | None = None, ignore: int | list | None = None,
    objects: bool = False) -> dict:
    """Pair files under `root`, record their sizes, and write the manifest JSON. An image
    with several masks (`mask_parts`, several mask folders) gets their union in merged_masks/
    beside the manifest, and one with class folders or tables its mask of class numbers or
    0/255 (LabelMe's and QuPath's don't-care labels as masks.ignore's `ignore`), `processes` at
    a time; one with band files (`band_files`) its bands stacked into a TIFF in stacked_images/;
    one held in its LabelMe JSON's imageData only its file in embedded_images/; one with a
    region of interest (`roi`) its file; one without a mask (missing_mask: empty) class 0's
    value `blank` (else 0) everywhere. With `objects`, drawn masks get their objects' ids
    beside them (`mask_objects`: masks.separate parts touching objects by them)."""
    pairs, merges, stacks = [], [], []
    merged = Path(manifest_path).parent / "merged_masks"
    stacked = Path(manifest_path).parent / "stacked_images"
    layout, found, noted = _paired(root, layout, Path(manifest_path).parent, processes, ignore)
    drawn = _drawn(layout)
    images = [img[0] if isinstance(img, list) else img for _, img, _ in found]
    sizes = image_sizes(images, [mask for _, _, mask in found])  # the masks named with a bad one
    for (pid, img, mask), (w, h) in zip(found, sizes, strict=True):
        bands, img = (img, img[0]) if isinstance(img, list) else (None, img)
        _check_utf8(img, pid)
        pair = {"id": pid, "image": str(img), "mask": str(mask), "size": [w, h]}
        pair.update(noted.get(pid, {}))  # its region of interest; the JSON holding its image
        if bands:  # one file per band (or band_nodata's image alone): stacked into one TIFF
            _as_stack(pair, bands, stacked / f"{pid}.tif")
            stacks.append((bands, stacked / f"{pid}.tif", layout.band_nodata))
        if drawn:  # encodings or objects: drawn into a file
            merges.append(_drawn_job(pair, drawn, mask, img, merged, objects))
        elif type(mask).__name__ == "BlankMask":  # no mask file (missing_mask: empty): zeros
            pair["mask"] = str(merged / f"{pid}.png")
            mask = replace(mask, value=blank) if blank is not None else mask
            merges.append((("blank", mask, img, (w, h)), merged / f"{pid}.png"))
        elif isinstance(mask, dict):  # one mask per class folder: class numbers, merged
            pair["mask"] = str(merged / f"{pid}.png")
            pair["mask_parts"] = {str(k): [str(x) for x in m] if isinstance(m, list) else str(m)
                                  for k, m in mask.items()}
            merges.append((mask, merged / f"{pid}.png"))
        elif isinstance(mask, list):
            pair["mask"] = str(mask[0])
            if len(mask) > 1:
                pair["mask"] = str(merged / f"{pid}.png")
                pair["mask_parts"] = [str(m) for m in mask]
                merges.append((mask, merged / f"{pid}.png"))
        pairs.append(pair)
    _write_files(merges, stacks, drawn, processes)
    manifest = {"source": source, "root": str(root), **(extra or {}), "pairs": pairs}
    names = _class_names(layout, [m for _, _, m in found])
    if names:  # what the data calls its classes (COCO categories, class folders), by value
        manifest["class_names"] = names
    write_json(manifest_path, manifest)
    log.info("%d image/mask pairs from %s (%s)", len(pairs), root, source)
    return manifest


def download_dataset(
    manifest_path: str | Path, source: str, settings: dict[str, Any], processes: int = 1,
    data_digest: str | None = None,
) -> dict:
    """Fetch or generate the data set named by `source`, then write its manifest; a local
    folder's `data_digest` (its files' fingerprint) is kept beside it (precheck)."""
    manifest_path = Path(manifest_path)
    if source == "synthetic":
        root = manifest_path.parent
        source_module(source).generate_dataset(
            root, count=settings["count"], width=settings["width"], height=settings["height"],
            seed=settings["seed"], classes=settings["classes"], processes=processes)
        return write_manifest(manifest_path, source, root, Layout())
    if source == "local":
        # Used in place: no copy of the user's folder.
        root = local_root(settings["path"])  # café typed composed, named decomposed on disk
        _check_local_path(root)
        layout = layout_from(settings, source)
        manifest = write_manifest(manifest_path, source, root, layout, processes=processes,
                                  **_drawing(settings))
        if data_digest:
            record_digest(manifest_path, data_digest)
        return manifest
    if source in ("url", "kaggle"):
        # Both unpack into resources/<dataset>/data/; `root` picks the layout's folder in it.
        records = _fetch(source, settings, manifest_path.parent)
        root = _data_root(manifest_path.parent / "data", settings.get("root", ""), source)
        extra = {"archives": records}
        layout = layout_from(settings, source)
        return write_manifest(manifest_path, source, root, layout, extra, processes,
                              **_drawing(settings))
    raise ValueError(
        f"dataset.source: unknown source {source!r}; use synthetic, local, url or kaggle"
    )


def _drawing(settings: dict[str, Any]) -> dict[str, Any]:
    """What the workflow adds to a source's settings for the masks it writes: class 0's value
    for blank masks (blank_background), masks.ignore's (ignore_value), masks.separate's ids."""
    value, ignore = settings.get("blank_background"), settings.get("ignore_value")
    objects = bool(settings.get("separate_objects"))  # drawn objects' ids, for masks.separate
    return {"blank": tuple(value) if isinstance(value, list) else value, "ignore": ignore,
            "objects": objects}
