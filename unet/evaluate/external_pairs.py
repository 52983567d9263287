"""`unet score`'s pairing: each predicted mask with its external ground truth, by stem."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from unet.common.imageio import ImageReadError, image_size
from unet.common.schema import defaults
from unet.common.stems import file_stem
from unet.dataset.layout import files_with
from unet.dataset.names import listing

log = logging.getLogger(__name__)
# What `unet predict` writes (.png, a 16-bit or georeferenced .tif) and the data sets' masks;
# a truth folder may hold JPEG masks too (read through --threshold).
PRED_EXTENSIONS = tuple(defaults("dataset", "local")["mask_extensions"])
TRUTH_EXTENSIONS = (*PRED_EXTENSIONS, ".jpg", ".jpeg")
# The fixes of a file that cannot be read, in place of the data set's (replace the pair)
PRED_FIX = "Predict its image again (unet predict ... --overwrite), or remove it and give --partial"
TRUTH_FIX = "Replace it, or remove it and give --partial"


@dataclass(frozen=True)
class Pairing:
    """How truth names relate to prediction names: <prefix><stem><suffix>.<ext> (ETIS's p1.tif
    for 1.png), or the stem that `stem` (pattern, replace) makes of the prediction's (KITTI's
    um_road_000000 for um_000000, as dataset.<source>.mask_stem), subfolders mirrored with
    `recursive`, unpaired files skipped with `partial`."""

    prefix: str = ""
    suffix: str = ""
    recursive: bool = False
    partial: bool = False
    stem: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        if self.stem[0] and (self.prefix or self.suffix):  # as the workflow's mask_stem
            raise ValueError("--mask-stem makes the whole mask stem of a prediction's name: "
                             "write the prefix or suffix into its REPLACE instead of "
                             "--mask-prefix/--mask-suffix, or drop --mask-stem")


def _keyed(folder: Path, extensions: tuple[str, ...], pairing: Pairing, truth: bool,
           ) -> dict[str, Path]:
    """The mask files of `folder` by key: the path under it less its extension (and, for the
    truth, less the prefix and suffix; a truth file without them is no mask: CVC-ColonDB keeps
    1.tif beside p1.tif); two of one key are refused, named."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder; give the folder of "
                                + ("the ground-truth masks" if truth else "unet predict's -o"))
    prefix, suffix = (pairing.prefix, pairing.suffix) if truth else ("", "")
    found: dict[str, Path] = {}
    for f in files_with(folder, extensions, pairing.recursive):
        rel, stem = f.relative_to(folder), file_stem(f)
        if len(stem) <= len(prefix) + len(suffix) or not (stem.startswith(prefix)
                                                          and stem.endswith(suffix)):
            continue
        key = (rel.parent / stem[len(prefix):len(stem) - len(suffix)]).as_posix()
        if key in found:
            raise ValueError(f"{found[key]} and {f} are both the mask of {key}: keep one of "
                             f"them in {folder}")
        found[key] = f
    return found


def _unpaired_message(pred_dir: Path, truth_dir: Path, no_truth: list[str],
                      no_pred: list[str], pairing: Pairing, wanted: dict) -> str:
    """One line naming the predictions without truth (with --mask-stem, each with the mask
    stem looked for) and the truth masks without prediction."""
    named = f"{pairing.prefix}<name>{pairing.suffix}.*"
    if pairing.stem[0]:
        named = "made by --mask-stem"
        no_truth = [f"{k} (mask {wanted[k]}.*)" if wanted[k] else f"{k} (not matched by "
                    "its PATTERN)" for k in no_truth]
    parts = ([f"{len(no_truth)} prediction(s) in {pred_dir} have no mask {named} in "
              f"{truth_dir}: {listing(no_truth)}"] if no_truth else []) + (
        [f"{len(no_pred)} mask(s) in {truth_dir} have no prediction in {pred_dir}: "
         f"{listing([pairing.prefix + k + pairing.suffix for k in no_pred])}"] if no_pred else [])
    return "; ".join(parts)


def _truth_keys(preds: dict[str, Path], pairing: Pairing) -> dict[str, str | None]:
    """Each prediction key's truth key: itself, or with --mask-stem the stem it makes of the
    prediction's (stem_map's rule; in the same subfolder), None where the pattern misses."""
    if not pairing.stem[0]:
        return {k: k for k in preds}
    from unet.dataset.stem_map import mask_stems, stem_rule

    pattern, replace = pairing.stem
    rule = stem_rule(pattern, replace, ("--mask-stem PATTERN", "--mask-stem REPLACE"))
    keys = {k: PurePosixPath(k) for k in preds}
    stems = mask_stems(rule, replace, sorted({k.name for k in keys.values()}))
    return {k: None if stems[p.name] is None else (p.parent / stems[p.name]).as_posix()
            for k, p in keys.items()}


def paired_files(pred_dir: Path, truth_dir: Path, pairing: Pairing) -> dict[str, tuple[Path, Path]]:
    """Each key's (prediction, truth) files, sorted by key. Unpaired files on either side are
    refused, named (first few and the count), unless `pairing.partial`: then skipped, logged;
    no pair at all is refused with the names' fix (--mask-prefix, --mask-suffix). With
    --mask-stem, truth masks no prediction's stem names (KITTI's um_lane_*) are only named in a
    warning, as download_dataset names them: the folder holds other masks than these."""
    preds = _keyed(pred_dir, PRED_EXTENSIONS, pairing, truth=False)
    truths = _keyed(truth_dir, TRUTH_EXTENSIONS, pairing, truth=True)
    wanted = _truth_keys(preds, pairing)
    both = sorted(k for k in preds if wanted[k] in truths)
    no_truth = sorted(k for k in preds if wanted[k] not in truths)
    no_pred = sorted(truths.keys() - {wanted[k] for k in both})
    if pairing.stem[0] and no_pred:
        log.warning("%s: masks no prediction's --mask-stem names, left out: %s", truth_dir,
                    listing(no_pred))
        no_pred = []
    unpaired = _unpaired_message(pred_dir, truth_dir, no_truth, no_pred, pairing, wanted)
    if not both:
        raise FileNotFoundError(
            f"no prediction pairs with a ground-truth mask by name ({unpaired or 'both empty'}); "
            "where the masks' names add to the image's (ETIS: p1.tif for 1.tif) give "
            "--mask-prefix and --mask-suffix (a word inside the name: --mask-stem), and "
            "--recursive for subfolders")
    if unpaired and not pairing.partial:
        raise FileNotFoundError(f"{unpaired}; give --partial to score only the {len(both)} "
                                "pairs, or --mask-prefix and --mask-suffix (or --mask-stem) "
                                "where the names differ by these")
    if unpaired:
        log.warning("not scored (--partial): %s", unpaired)
    pairs = {k: (preds[k], truths[wanted[k]]) for k in both}
    check_sizes(pairs)
    return pairs


def check_sizes(pairs: dict[str, tuple[Path, Path]]) -> None:
    """Refuse predictions whose size differs from their truth's, each pair named (headers only,
    so before any pixel is read)."""
    bad = [(p, t, _size(p, PRED_FIX), _size(t, TRUTH_FIX)) for p, t in pairs.values()]
    bad = [b for b in bad if b[2] != b[3]]
    if bad:
        p, t, a, b = bad[0]
        more = f" (and {len(bad) - 1} more pair(s))" if len(bad) > 1 else ""
        raise ValueError(
            f"prediction {p} is {a[0]}x{a[1]} but its ground truth {t} is {b[0]}x{b[1]}{more}: "
            "predict the truth's own images (unet predict writes each mask at its image's "
            "size), or check the pairing (--mask-prefix, --mask-suffix)")


def _size(path: Path, fix: str) -> tuple[int, int]:
    """A mask's (width, height) from its header; one that cannot be read named with `fix`."""
    try:
        return image_size(path)
    except ImageReadError as err:
        raise ImageReadError(err.problem, fix) from err
