"""What `unet predict` (info, export) is given: image files, folders and patterns; a model file
or an experiment's folder."""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def named_images(inputs: list[str], roi: str | None, out: str | None = None) -> list[Path]:
    """Image files named directly or by a pattern (expanded), and the images directly inside
    named folders (less the regions of interest `roi` names there); a file named twice (a
    folder and a file in it, overlapping patterns) once, where it first came; a link to an
    image under another name is an image of its own (its mask is named by the link's stem);
    a pattern's matches in the masks' folder `out` are left out (_outside)."""
    return list(image_bases(inputs, roi, out))


def image_bases(inputs: list[str], roi: str | None, out: str | None = None,
                recursive: bool = False) -> dict[Path, Path]:
    """named_images' files, each with the folder its mask's path is taken from (mask_names):
    its own folder (<stem>.png), or with `recursive` (folders read with their subfolders) the
    folder named (of several, the folder they share), or a pattern's fixed folders
    ('data/**/*.png': data), so that the masks mirror the subfolders: Urban/images_png/1.png
    and Rural/images_png/1.png keep their own."""
    from unet.infer.predict_folder import list_images

    found: list[tuple[Path, Path]] = []
    named = expanded_from(inputs, out)
    shared = _shared_folder([i for i, fixed in named if fixed is None and i.is_dir()])
    for item, fixed in named:
        mirror = fixed if recursive else None  # a pattern's match: from its fixed folders
        if recursive and fixed is None and item.is_dir():
            mirror = shared  # several folders named: from the one they lie in (01, 02: .)
        if item.is_dir():
            images = list_images(item, roi=roi and os.path.relpath(roi, item), out_dir=out,
                                 cli=True, recursive=recursive)
            if recursive:
                images = _not_masks(item, images, out)
            found += [(f, mirror or item) for f in images]
        elif item.is_file():
            found.append((item, mirror or item.parent))
        else:
            raise FileNotFoundError(f"{item}: no such image file or folder")
    unique: dict[tuple[str, ...], tuple[Path, Path]] = {}
    for f, base in found:  # recursive: Test/ and Test/Urban/ both named, each image once;
        # links of one name in two subfolders are two images, as predict.recursive reads them
        where = os.path.realpath(f.parent) if recursive else ""
        unique.setdefault((os.path.realpath(f), f.name, where), (f, base))
    return dict(unique.values())


def _shared_folder(folders: list[Path]) -> Path | None:
    """The folder every one of several folders named lies in (Test/Urban and Test/Rural: Test;
    the Cell Tracking Challenge's 01 and 02: .), so that --recursive mirrors each under its
    own name there; None for one folder, or for absolute paths beside relative ones."""
    if len(set(folders)) < 2:
        return None
    try:
        return Path(os.path.commonpath([str(f) for f in folders]) or ".")
    except ValueError:  # '/data/01' beside '02': no lexical folder holds both
        return None


def expanded_from(inputs: list[str], out: str | None = None) -> list[tuple[Path, Path | None]]:
    """`inputs` with each pattern (*, ?, [...]; ** for any depth of folders) that names no file
    as it is expanded, sorted, as the shell would have: quoted, or passed on by a script, it
    came as it was typed. Its matches in the masks' folder `out` are dropped (_outside). Each
    match comes with the pattern's folders before its first wildcard (fixed_folder), which
    --recursive mirrors it from; a path named as it is, with None."""
    paths: list[tuple[Path, Path | None]] = []
    for item in inputs:
        if os.path.lexists(item) or not glob.has_magic(item):
            paths.append((Path(item), None))
            continue
        if "**" in item:
            _check_no_loop(item)
        found = sorted(glob.glob(item, recursive=True))  # ** spans folders, as bash's globstar
        if not found:
            raise FileNotFoundError(f"{item}: no file matches this pattern; check it, or name "
                                    "the images or their folder")
        fixed = Path(fixed_folder(item))
        paths += [(Path(f), fixed) for f in _outside(item, found, out)]
    return paths


def _not_masks(folder: Path, images: list[Path], out: str | None) -> list[Path]:
    """A folder's `images` (read with its subfolders) less those in the masks' folder `out`
    where it lies inside: an earlier run's masks (its record there says so) are left out, as
    a pattern's are (_outside); images of the user's own there are refused, named: predicted,
    they would be taken for masks and left out by the next run."""
    from unet.infer.resume import RECORD

    landing = os.path.realpath(out or folder)
    if landing == os.path.realpath(folder):  # the folder itself: check_outputs refuses it
        return images
    inside = [f for f in images if os.path.commonpath(
        [landing, os.path.realpath(f.parent)]) == landing]
    if not inside:
        return images
    if not os.path.isfile(os.path.join(out, RECORD)):
        raise ValueError(f"{out} (-o) lies inside {folder} and holds {len(inside)} images of "
                         f"its own ({inside[0]}, no masks of unet predict): with --recursive "
                         "they would be predicted, then taken for masks; name a -o folder "
                         f"outside {folder}, or move them out of it")
    log.info("%s: %d files in %s (the masks' folder, -o) left out", folder, len(inside), out)
    left = set(inside)
    return [f for f in images if f not in left]


def fixed_folder(pattern: str) -> str:
    """The folders of `pattern` before its first wildcard: 'data/**/*.png' -> 'data'."""
    parts = pattern.split(os.sep)
    fixed = next(k for k, p in enumerate(parts) if glob.has_magic(p))
    return os.sep.join(parts[:fixed]) or ("." if fixed == 0 else os.sep)


def _check_no_loop(pattern: str) -> None:
    """Refuse a '**' pattern whose folders hold links that lead back to a folder they lie in
    (a link to a folder above, or links through folders beside: d/x -> ../e, e/back -> ../d):
    glob's ** follows them round to the system's link limit, 40 deep, and two such links made
    2^40 paths (no end). One walk of the folder the pattern starts from, each real folder
    once, hidden folders left out as ** leaves them."""
    if (loop := _first_loop(fixed_folder(pattern))) is not None:
        link, target = loop
        raise ValueError(f"{link} is a link to {target}, a folder it lies in (a loop): "
                         f"{pattern}'s ** would go round it without end; remove the link, or "
                         "name the folders to predict")


def _first_loop(root: str) -> tuple[str, str] | None:
    """The first link under `root` (by its real folder, and where it points) whose folder is
    reached again through it: a depth-first walk over real folders, a link leading to one of
    those it was reached through (or above them) a loop, one walked already passed over."""
    top = os.path.realpath(root)
    trail, on_trail, done = [top], {top}, set()
    steps = [iter(_subfolders(top))]
    while steps:
        if (step := next(steps[-1], None)) is None:
            done.add(trail[-1])
            on_trail.discard(trail.pop())
            steps.pop()
            continue
        link, real = step
        here = trail[-1]
        if real in on_trail or os.path.commonpath([real, here]) == real:  # above: at once
            return link, os.readlink(link)
        if real not in done:
            trail.append(real)
            on_trail.add(real)
            steps.append(iter(_subfolders(real)))
    return None


def _subfolders(folder: str) -> list[tuple[str, str]]:
    """The visible folders in `folder` (links to folders among them): each path and real path."""
    try:
        with os.scandir(folder) as entries:
            found = sorted((e.path, e.is_symlink()) for e in entries
                           if not e.name.startswith(".") and e.is_dir())
    except OSError:  # unreadable: ** cannot list it either
        return []
    return [(p, os.path.realpath(p) if link else p) for p, link in found]


def _outside(pattern: str, found: list[str], out: str | None) -> list[str]:
    """`found` less the files in the masks' folder `out` or below it: 'data/**/*.png' -o
    data/pred, run again, took the masks written there for images (refused as images of one
    name, or their masks' masks predicted). Only where `out` holds unet predict's record (an
    earlier run's), and all of them when nothing else matched: the images' own folder as -o
    is refused, named, by check_outputs."""
    from unet.infer.resume import RECORD

    landing = os.path.realpath(out) if out and os.path.isfile(os.path.join(out, RECORD)) else None
    kept = [f for f in found if not (landing and os.path.commonpath(
        [landing, os.path.realpath(os.path.dirname(f) or ".")]) == landing)]
    if not kept:
        return found
    if len(kept) < len(found):
        log.info("%s: %d files in %s (the masks' folder, -o) left out", pattern,
                 len(found) - len(kept), out)
    from unet.infer.extensions import masks_folder

    # another run's -o below the images (data/pred_a, now -o data/pred_b): masks, not images
    top, seen = Path(fixed_folder(pattern)), {}
    others = {f: at for f in kept if (at := masks_folder(Path(os.path.dirname(f)), top, seen))}
    if not others or len(others) == len(kept):
        return kept
    log.info("%s: %d files in %s (an earlier run's masks, by its %s) left out", pattern,
             len(others), ", ".join(sorted({str(at) for at in others.values()})), RECORD)
    return [f for f in kept if f not in others]


def named_models(model: str) -> list[str]:
    """A model file, or an experiment's folder: its model.pt, or with cross-validation the
    folds' models of its latest run (averaged, as the predict_folder rule does), in fold
    order; a fold left by an earlier run with more folds is refused, named. Beside each other,
    the newer of model.pt and the folds is the latest run's."""
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(f"{model} does not exist: give a model.pt that train_unet wrote, "
                                "or an experiment's folder (results/<dataset>/<experiment>)")
    if not path.is_dir():
        return [model]
    from unet.model.folds import experiment_folds

    single = path / "model.pt"
    found = list(path.glob("folds/*/model.pt"))
    if single.is_file():  # beside folds, the newer is the latest run's (the pipeline's own)
        newest = max((f.stat().st_mtime for f in found), default=None)
        if newest is None or single.stat().st_mtime > newest:
            if found:
                log.warning("%s's folds/ are older than its model.pt: left out", path)
            return [str(single)]
        log.warning("%s is older than the folds beside it (split.folds on since): left out",
                    single)
    folds = experiment_folds(path)
    if not folds:
        raise FileNotFoundError(f"{path} holds no model.pt, nor folds/<k>/model.pt: give a "
                                "model file, or an experiment's folder under results/"
                                + _shared_hint(path))
    return [str(f) for f in folds]


def _shared_hint(path: Path) -> str:
    """Where the model of an experiment that trains as another (and so has none) may be: the
    experiments beside it that hold one; a fold's folder (folds/<k>) writes its own when
    that fold's training ends, and the folds beside it are no experiments to give."""
    if path.parent.name == "folds":
        return (f"; a fold's model.pt is written when that fold's training ends: give "
                f"{path.parent.parent} (its folds averaged) once all have trained")
    owners = sorted(str(d) for d in path.parent.iterdir() if d != path and d.is_dir()
                    and ((d / "model.pt").is_file() or any(d.glob("folds/*/model.pt"))))
    if not owners:
        return ""
    return ("; an experiment that trains as another predicts with that one's "
            f"model and has none: give that experiment's folder ({', '.join(owners)})")


def dashed_names(argv: list[str]) -> list[str]:
    """After a usage error, a line for each file name argparse took for an option (-1.PNG,
    -model.onnx), which it reports only as an argument missing or not expected, with the fix."""
    lines = []
    for arg in argv:
        file_like = "." in arg or os.path.lexists(arg)  # -o and -h hold no dot
        if arg.startswith("-") and not arg.startswith("--") and file_like:
            try:
                float(arg)  # --overlap -0.5: a value, and read as one
            except ValueError:
                lines.append(f"{arg} is read as an option: write ./{arg}, or put -- before "
                             f"file names that start with '-' (-- {arg}); an option's value "
                             f"can start with '-' after '=' (--onnx={arg}, --out={arg})")
    return lines
