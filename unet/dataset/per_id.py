"""Files found by each image's id through a path template with {id} (band_files, roi; the
regions of interest of a folder of new images): the template checks and the missing-file rule
they share."""

from __future__ import annotations

import fnmatch
import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from unicodedata import normalize

from unet.common.stems import without_extension
from unet.dataset.layout import GROUP, DataLayoutError, Layout, files_with, wildcard
from unet.dataset.names import listing

log = logging.getLogger(__name__)
ID = "{id}"


def check_template(layout: Layout | None, key: str, template: str, example: str,
                   group_example: str = "") -> None:
    """Refuse a template that cannot name one file per image: without {id}, or without {group}
    in a layout of {group} folders (whose file ids repeat across groups: 01/t000.tif and
    02/t000.tif would share one file); no layout: new images, no groups."""
    if ID not in template:
        raise DataLayoutError(
            f"{key}: {template!r} has no {ID}; write each image's file with {ID} where the "
            f"image's id goes, e.g. {example!r}"
        )
    if layout is not None and GROUP in layout.images and GROUP not in template:
        raise DataLayoutError(
            f"{key}: {template!r} has no {GROUP}, but {layout.section}.images "
            f"{layout.images!r} has: the images of two groups with one file name would share "
            f"a file; write {GROUP} where the group's name goes, e.g. {group_example!r}"
        )


def group_templates(root: Path, layout: Layout, found: Sequence[tuple[str, object, object]],
                     templates: Sequence[str]) -> dict[str, tuple[str, list[str]]]:
    """Per pair of a {group} layout, its file id (the id without its group's name in front)
    and the templates with its group filled in: {id} is the id in the group's own names."""
    # By name, as layout_kinds.layout_module imports: only {group} layouts come here, and
    # their download rule lists dataset.groups as code; predict_folder (new images) never does.
    groups = importlib.import_module("unet.dataset.groups")
    names = groups.find_groups(root, layout)[0]
    folders = {g: root / groups.filled(layout, g).images for g in names}
    out = {}
    for pid, image, _ in found:
        first = image[0] if isinstance(image, list) else image  # (with its band files)
        group = max((g for g, d in folders.items() if Path(first).is_relative_to(d)), key=len)
        out[pid] = (pid[len(group) + 1:], [t.replace(GROUP, group) for t in templates])
    return out


def files_per_id(
    root: Path, layout: Layout, found: Sequence[tuple[str, object, object]], key: str,
    templates: Sequence[str], what: str,
) -> tuple[list[tuple[str, object, object]], dict[str, list[Path]]]:
    """The pairs that have a file for every template (its id in place of {id}, under `root`),
    and those files by id, in the templates' order. A pair missing one is refused (or, with
    allow_unpaired, skipped with a warning), naming the files; `what` names such a file."""
    paths = paths_per_id(root, layout, found, templates)
    absent = {pid: [p for p in ps if not p.is_file()] for pid, ps in paths.items()}
    absent = {pid: ps for pid, ps in absent.items() if ps}
    if absent:
        names = listing([str(p) for pid in sorted(absent) for p in absent[pid]])
        problem = f"{len(absent)} images have no {what} of {key}: {names}"
        if not layout.allow_unpaired:
            raise DataLayoutError(
                f"{problem}. Each image needs the file each template of {key} names, its id "
                f"in place of {ID}; fix the names or the template, or set "
                f"{layout.section}.allow_unpaired: true to skip such images"
            )
        log.warning("skipping %s", problem)
    kept = [f for f in found if f[0] not in absent]
    return kept, {pid: paths[pid] for pid, _, _ in kept}


def paths_per_id(root: Path, layout: Layout, found: Sequence[tuple[str, object, object]],
                 templates: Sequence[str]) -> dict[str, list[Path]]:
    """Each pair's file of each template (its id in place of {id}, its group's name in place
    of {group}, under `root`), whether there or not."""
    if GROUP in layout.images:
        each = group_templates(root, layout, found, templates)
    else:
        each = {pid: (pid, list(templates)) for pid, _, _ in found}
    return {pid: [named(root, t, fid) for t in ts] for pid, (fid, ts) in each.items()}


def named(root: Path, template: str, pid: str) -> Path:
    """The file `template` names for `pid` under `root`; where that is missing, the file named
    with the id decomposed, if there (ids are composed; a Mac names files decomposed)."""
    path = root / template.replace(ID, pid)
    if not path.is_file():
        other = root / template.replace(ID, normalize("NFD", pid))
        if other.is_file():
            return other
    return path


def names_one(path: Path, folder: Path, template: str) -> bool:
    """Whether `path`, under `folder`, is a file `template` (relative to `folder`) names for
    some id: a region of interest beside the images is not an image to predict."""
    return fnmatch.fnmatchcase(path.relative_to(folder).as_posix(), wildcard(template, ID))


def images_in(
    folder: Path, extensions: Sequence[str], roi: str | None, strict: bool = True,
    recursive: bool = False,
) -> list[Path]:
    """The images directly in `folder` (or, `recursive`, in its subfolders too, hidden ones
    left out) with one of `extensions`, less the regions of interest that `roi` (relative to
    `folder`) names; `strict`: a link to what is gone is refused."""
    found = files_with(folder, extensions, recursive, strict=strict)
    return [p for p in found if not (roi and names_one(p, folder, roi))]


def new_id(path: Path, folder: Path) -> str:
    """A new image's id for {id}: its path in `folder` less its extension, the stem for one
    directly in it; 's1/a/img' for s1/a/img.png, as two series' img.png must not share one."""
    return without_extension(path.relative_to(folder)).as_posix()


def new_images(folder: Path, extensions: Sequence[str], roi: str | None,
               recursive: bool = False) -> list[Path]:
    """The files of a folder of new images that predict_folder reads: its images (images_in),
    then each image's region of interest (`roi` relative to `folder`, the image's new_id for
    {id}) where it exists. Changing one of them makes the folder's masks stale."""
    images = images_in(folder, extensions, roi, strict=False, recursive=recursive)
    rois = [folder / roi.replace(ID, new_id(p, folder)) for p in images] if roi else []
    return images + [r for r in rois if r.is_file()]
