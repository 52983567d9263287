"""Names that relate files: ids from stems, and the further masks of one image (BUSI's
`benign (3)_mask_1.png` beside `benign (3)_mask.png`)."""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from pathlib import Path

from PIL import Image

from unet.common.slides import slides_fix
from unet.common.stems import file_stem

log = logging.getLogger(__name__)


def by_id(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    """Files whose stem ends with `suffix`, keyed by the stem without it."""
    return {s[: len(s) - len(suffix)]: p for s, p in files.items() if s.endswith(suffix)}


def listing(names: list[str], limit: int = 5) -> str:
    """The first `limit` names, and how many there are."""
    shown = ", ".join(names[:limit])
    return f"{shown}{', ...' if len(names) > limit else ''} ({len(names)} in all)"


def part_of(stem: str, suffix: str, ids: set[str], parts: re.Pattern | None) -> tuple[str, str]:
    """(id, tail) when `stem` is an id's mask stem (id + suffix) followed by a tail that
    `parts` matches whole (any tail when `parts` is None); ('', '') when it is not."""
    for cut in range(len(stem) - 1, 0, -1):
        head, tail = stem[:cut], stem[cut:]
        if not head.endswith(suffix) or (parts is not None and not parts.fullmatch(tail)):
            continue
        image_id = head[: len(head) - len(suffix)]
        if image_id in ids:
            return image_id, tail
    return "", ""


def further_masks(
    mask_files: dict[str, Path], suffix: str, ids: set[str], parts: re.Pattern
) -> dict[str, list[Path]]:
    """Mask files that are further masks of an image (not an id's own mask stem), by id."""
    own = set(by_id(mask_files, suffix)) & ids
    found: dict[str, list[Path]] = {}
    for stem, path in mask_files.items():
        if stem.endswith(suffix) and stem[: len(stem) - len(suffix)] in own:
            continue  # the id's own mask, even when it looks like another id's part
        image_id, _ = part_of(stem, suffix, ids, parts)
        if image_id:
            found.setdefault(image_id, []).append(path)
    return found


def parts_hint(stems: list[str], suffix: str, paired: set[str], section: str) -> str:
    """Files among `stems` (unpaired) that look like further masks of a paired image."""
    found = [(s, *part_of(s, suffix, paired, None)) for s in stems]
    found = [(s, i, tail) for s, i, tail in found if i]
    if not found:
        return ""
    expression = re.sub(r"\d+", r"\\d+", re.escape(found[0][2]))
    named = listing([f"{s} (further masks of {i})" for s, i, _ in found])
    return (
        f"; these look like further masks of paired images: {named}. The pipeline reads one "
        f"mask per image: set {section}.mask_parts: '{expression}' to merge each "
        "image's masks into one (their union)"
    )


def suffix_hint(no_mask: list[str], no_image: list[str], image_suffix: str, section: str) -> str:
    """The image_suffix that pairs unpaired images with unpaired masks, where their ids end
    with a tail of their own (cellpose's 000_img beside 000_masks, DRIVE's 21_training): the
    longest tail they all share that, cut off, gives most ids a mask, at least half of them."""
    tail = os.path.commonprefix([s[::-1] for s in no_mask])[::-1] if no_mask else ""
    masks = set(no_image)
    for k in range(len(tail), 0, -1):
        if any(len(s) == k for s in no_mask):
            continue  # an id would become empty
        hits = sum(s[:-k] in masks for s in no_mask)
        if hits and 2 * hits >= len(no_mask):
            return (f"; set {section}.image_suffix: '{tail[-k:]}{image_suffix}' (the images' ids "
                    f"would then pair with {'all ' if hits == len(masks) else ''}{hits} "
                    f"mask{'s' if hits > 1 else ''})")
    return ""


def case_hint(no_mask: list[str], no_image: list[str]) -> str:
    """Unpaired images and masks whose ids differ in letter case alone (Scan (3) beside scan
    (3)): macOS and Windows show them as one name, but names pair as they are spelt."""
    masks = {s.casefold(): s for s in no_image}
    pairs = [(s, masks[s.casefold()]) for s in no_mask if s.casefold() in masks]
    if not pairs:
        return ""
    more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
    shown = "; ".join(f"{i!r} and {m!r}" for i, m in pairs[:3]) + more
    return (f"; {len(pairs)} image(s) and mask(s) differ only in letter case ({shown}): names "
            "pair as they are spelt, as on Linux, though macOS and Windows show them as one: "
            "rename each mask to its image's spelling")


def not_images_hint(unpaired: list[Path], images: dict[str, Path], section: str) -> str:
    """Unpaired 'images' named like another file of a paired image, in another format
    (CHASE_DB1's Image_01L_2ndHO.png, a second annotator's mask, beside Image_01L.jpg and its
    Image_01L_1stHO.png; ISIC 2017's ISIC_0000000_superpixels.png beside ISIC_0000000.jpg):
    the image extensions likely take in files that are no images of the data set."""
    found, ids = [], set(images)
    for path in unpaired:
        image_id, _ = part_of(file_stem(path), "", ids, None)
        if image_id and images[image_id].suffix.lower() != path.suffix.lower():
            found.append((path, images[image_id]))
    if not found:
        return ""
    kinds = sorted({image.suffix.lower() for _, image in found})
    example, image = found[0]
    return (
        f"; {listing([p.name for p, _ in found])} are named like other files of paired images "
        f"(e.g. {example.name} beside {image.name}: another mask or map?); if they are not "
        f"images, narrow {section}.image_extensions to {kinds}"
    )


def missing_folder_hint(root: Path, folder: str, section: str, root_key: str, sub: str) -> str:
    """Where the layout's missing `folder` does lie a folder or two below `root` (archives
    mostly unpack into a folder of their own), as the setting that points there; else which
    folders `root` holds. `sub`: the url/kaggle root already set, which a new one extends."""
    if not root.is_dir():  # the root set inside the archives is wrong: look from its parent
        up = Path(sub).parent
        if root_key != "root" or not sub or not root.parent.is_dir():
            return ""
        return missing_folder_hint(root.parent, folder, section, root_key,
                                   "" if up == Path(".") else up.as_posix())
    below = [d for d in _visible_dirs(root) if (d / folder).is_dir()]
    below += [e for d in _visible_dirs(root) for e in _visible_dirs(d) if (e / folder).is_dir()]
    values = [str(d) if root_key == "path" else (Path(sub) / d.relative_to(root)).as_posix()
              for d in below]
    if len(below) == 1:
        return f"; {below[0] / folder} exists: set {section}.{root_key}: '{values[0]}'"
    if below:  # train/ and test/: the first alone, 'test' by sorting, is no answer
        return (f"; {folder}/ lies in several folders: {listing([repr(v) for v in values])}; "
                f"set {section}.{root_key} to the one to use, or, where they lie side by side, "
                f"set it to their folder and write '{{group}}/{folder}' for '{folder}' to take "
                "them all as groups (README: {group})")
    held = [d.name for d in _visible_dirs(root)]
    return (f"; it holds the folders {listing(held, 8)}" if held else "") + _archives_in(
        root, section)


ARCHIVE_NAMES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def _archives_in(folder: Path, section: str) -> str:
    """The archives lying in `folder` (an archive of archives: Kaggle's download-all zip holds
    train.zip and train_masks.zip), which are not unpacked, and what to do instead."""
    try:
        found = sorted(p.name for p in folder.iterdir()
                       if p.is_file() and p.name.lower().endswith(ARCHIVE_NAMES))
    except OSError:
        return ""
    if not found:
        return ""
    how = {"dataset.local": "unpack them first",
           "dataset.kaggle": "list the ones you need in dataset.kaggle.files"}.get(
        section, "unpack the archive that holds them yourself and list the ones you need as "
        "file:// URLs in dataset.url.archives")
    return f"; it holds the archives {listing(found, 8)}, which are not unpacked: {how}"


def _visible_dirs(folder: Path) -> list[Path]:
    """Subfolders, sorted, without hidden ones or macOS archives' __MACOSX."""
    try:
        found = sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p for p in found if not p.name.startswith(".") and p.name != "__MACOSX"]


def without_suffix(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    """Files whose stem does not end with `suffix` (all of them for no suffix)."""
    return {s: p for s, p in files.items() if not suffix or not s.endswith(suffix)}


def without_prefix(files: dict[str, Path], other: str, own: str) -> dict[str, Path]:
    """In a shared folder, leave out the other side's files: those starting with its prefix
    (and not with this side's own longer one), or, where only this side has one, those
    without it."""
    if other == own:
        return files
    if not other:  # CVC-ColonDB's 1.tiff beside its mask p1.tiff is an image, no stray mask
        return {s: p for s, p in files.items() if s.startswith(own)}
    return {s: p for s, p in files.items()
            if not s.startswith(other) or (own.startswith(other) and s.startswith(own))}


def after_prefix(files: dict[str, Path], prefix: str, side: str) -> dict[str, Path]:
    """Files by stem less `prefix`; those without it pair with nothing and are named."""
    if not prefix:
        return files
    kept = {s[len(prefix) :]: p for s, p in files.items() if s.startswith(prefix)}
    if len(kept) < len(files):
        left = [p.name for s, p in files.items() if not s.startswith(prefix)]
        log.warning("%s that pair with nothing (no prefix %r): %s", side, prefix, listing(left))
    return kept


# Extensions a decoder here reads (PIL's, and TIFF through tifffile): others are not images.
_READABLE = {e.lower() for e in Image.registered_extensions()} | {".tif", ".tiff", ".svs"}


def id_of(stem: str, prefix: str, suffix: str) -> str | None:
    """The id a file stem spells (prefix + id + suffix), or None when it is not so named."""
    if stem.startswith(prefix) and stem.endswith(suffix) and len(stem) > len(prefix + suffix):
        return stem[len(prefix) : len(stem) - len(suffix)]
    return None


COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".z")  # one compressed file each, not archives


VOLUMES = (".nii", ".nii.gz", ".nrrd", ".mha", ".mhd", ".dcm")  # 3-D or medical formats
# Notes beside the data (ISIC's ATTRIBUTION.txt, a README): never images to convert
_DOCUMENTS = (".txt", ".md", ".pdf", ".html", ".htm", ".rtf", ".doc", ".docx", ".log")


# What Windows leaves in folders it shows as thumbnails (macOS's are hidden: .DS_Store, ._a.png)
_SYSTEM_FILES = ("thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini")


def system_file(path: Path) -> bool:
    """Whether `path` is a file the operating system left, not data: never an image to add."""
    return path.name.lower() in _SYSTEM_FILES


def file_kind(path: Path) -> str:
    """A file's extension as a passed-over file is counted: with the one before a compression
    extension (.ppm.gz, .nii.gz), '' as 'no extension'."""
    suffixes = [x.lower() for x in path.suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[1] in COMPRESSED:
        return "".join(suffixes)
    return path.suffix.lower() or "no extension"


def is_nifti(path: Path) -> bool:
    """Whether `path` is named as a NIfTI volume (.nii, .nii.gz), which `unet unstack` splits."""
    return file_kind(path) in (".nii", ".nii.gz")


# What `unet unstack` splits by case: NIfTI through nibabel, NRRD, MetaImage, DICOM SimpleITK
UNSTACKED = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm")


def is_volume(path: Path) -> bool:
    """Whether `path` is named as a volume `unet unstack` splits into slices named by case."""
    return file_kind(path) in UNSTACKED


def skipped_note(
    side: str, folder: Path, skipped: Counter[str], key: str, exts: tuple[str, ...]
) -> str:
    """Why files in `folder` were not considered, with the key that picks them up."""
    skipped = Counter({e: c for e, c in skipped.items() if e not in _DOCUMENTS})
    if not skipped:
        return ""
    n = sum(skipped.values())
    counts = ", ".join(f"{e}: {c}" for e, c in skipped.most_common())
    if not any(e in _READABLE for e in skipped):
        if slides := slides_fix(skipped):
            fix = slides
        elif any(e in VOLUMES for e in skipped):
            from unet.dataset.volume_notes import volume_fix

            fix = (f"the pipeline reads 2-D images: export the {side} as one PNG or TIFF per "
                   "slice, named alike on both sides") + volume_fix(list(skipped), folder, key)
        elif any(e.endswith(COMPRESSED) for e in skipped):
            fix = (f"unpack them first (STARE's im0001.ppm.gz: gunzip), then add the extension "
                   f"they reveal to {key} if it is not there")
        else:
            # a data set's own other files (Pets' .mat beside its JPEGs) are no images at all
            fix = f"if they are {side}, save them as PNG or TIFF; files of other kinds may stay"
        return (
            f"; {side} holds {n} file{'s' if n > 1 else ''} not picked up ({counts}) in "
            f"{folder}: not image files the pipeline reads; {fix}"
        )
    lossy = " (JPEG masks are lossy: also set masks.threshold, e.g. 127)" if side == "masks" and (
        ".jpg" in skipped or ".jpeg" in skipped) else ""
    return (
        f"; {side} holds {n} file{'s' if n > 1 else ''} not picked up ({counts}) in {folder}, "
        f"since {key} is {list(exts)}: add the extension there{lossy}"
    )
