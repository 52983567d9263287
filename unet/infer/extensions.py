"""Files of a folder that `unet predict` or the workflow passes over for their extension, and
the fix to offer for them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from unet.common.slides import slides_fix
from unet.dataset.layout import files_with, visible_files
from unet.dataset.per_id import names_one
from unet.infer.resume import RECORD


def extension_fix(folder: Path, names: Sequence, extensions: Sequence[str], cli: bool) -> str:
    """The fix for files of other extensions: for `unet predict`, which has no key, a pattern."""
    listed = ", ".join(extensions)
    if slides := slides_fix(names):
        return slides
    return (f"`unet predict` reads a folder's {listed} files: name others, e.g. '{folder}/*"
            f"{Path(names[0]).suffix}'" if cli else f"dataset.<source>.image_extensions ({listed}) "
            "lacks their extension: add it there, or name the files to `unet predict`")


def unread_fix(folder: Path, others: Sequence, files: Sequence[Path], extensions: Sequence[str],
               cli: bool) -> str:
    """The fix for a folder of no image read: name the images of other extensions (`others`,
    a slide, a DICOM), or, where `files` holds no image at all (notes, a CSV), put them there:
    naming a text file as an image fails on it as unreadable."""
    if others or slides_fix([p.name for p in files]) or any(
            p.suffix.lower() in (".dcm", ".dicom") for p in files):
        return extension_fix(folder, others or files, extensions, cli)
    return (f"no image PIL reads among them: put the images in {folder}, or name the folder "
            "or files that hold them")


def other_images(folder: Path, extensions: Sequence[str]) -> list[str]:
    """Names of the files in `folder` of an image format PIL reads (WebP, JPEG 2000, PPM, ...)
    whose extension is not among `extensions`: passed over, as a text file is."""
    listed = {e.lower() for e in extensions}
    known = set(Image.registered_extensions()) - listed
    return [p.name for p in visible_files(folder, recursive=False) if p.suffix.lower() in known]


def masks_folder(folder: Path, top: Path, seen: dict) -> Path | None:
    """The folder below `top`, from `folder` up, that holds unet predict's record (an earlier
    run's masks), or None; `seen` keeps each folder's answer, as a pattern lists many files."""
    if folder not in seen:
        below = top in folder.parents
        at = folder if below and (folder / RECORD).is_file() else None
        seen[folder] = masks_folder(folder.parent, top, seen) if below and at is None else at
    return seen[folder]


def images_below(folder: Path, extensions: Sequence[str], roi: str | None,
                 out_dir: str | os.PathLike | None = None, cli: bool = False) -> str:
    """The images in `folder`'s subfolders (not its regions of interest, nor the masks in
    `out_dir`), in words: 'sub/ holds 3, ...'; '' for none. For `unet predict` (`cli`) DICOMs
    count too, and the patterns that name them all are offered: SIIM-ACR's test set is
    <study>/<series>/<id>.dcm, a folder per image, too many to name each."""
    out = os.path.realpath(out_dir) if out_dir is not None else None
    wanted, seen = ((*extensions, ".dcm") if cli else extensions), {}
    # nor those in an earlier run's -o (data/pred_a beside -o data/pred_b): masks, not images
    deeper = [p for p in files_with(folder, wanted, recursive=True, strict=False)
              if p.parent != folder and not (roi and names_one(p, folder, roi))
              and (out is None or out not in (os.path.realpath(p.parent),
                                              *map(os.path.realpath, p.parent.parents)))
              and not masks_folder(p.parent, folder, seen)]
    below = Counter(p.relative_to(folder).parts[0] for p in deeper)
    said = ", ".join(f"{d}/ holds {n}" for d, n in sorted(below.items()))
    if cli and deeper:  # the glob's case: *.dcm does not match A.DCM
        said += " (name them all: " + " ".join(
            f"'{folder}/**/*{e}'" for e in sorted({p.suffix for p in deeper})) + ")"
    return said
