"""One binary label volume per structure (TotalSegmentator's <subject>/segmentations/liver.nii.gz,
spleen.nii.gz, ... beside <subject>/ct.nii.gz) to one class map per slice: the pipeline reads
one value a class, so `unet unstack A B C masks --name CASE --classes channels` writes 1 where A
holds the voxel, 2 where B does, ... (the first given winning where two overlap)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unet.common.fileio import check_folder, disk_errors
from unet.dataset.array_classes import check_background, class_map, overlap_note
from unet.dataset.names import is_volume
from unet.dataset.unstack import moved_in_whole, refuse_taken, slice_name
from unet.dataset.volume_notes import sh

CLASSES_FIX = ("give --classes channels to write one class map per slice instead (1 where the "
               "first file holds the voxel, 2 the second, ...; the first given wins where two "
               "overlap)")


def refuse_binary_channels(data: np.ndarray, volumes: list[Path]) -> None:
    """Several volumes each of 0 and 1 alone are one structure's label each (TotalSegmentator),
    not a case's modalities: joined as channels they made a multi-channel mask no class reads."""
    if len(volumes) < 2 or data.ndim != 4 or data.dtype.kind not in "iu" \
            or data.min() < 0 or data.max() != 1:
        return
    if not (data == 0).any(axis=(0, 1, 2)).all():  # a channel 1 throughout is no structure
        return
    raise ValueError(f"{volumes[0]}, {volumes[1]} ...: the {len(volumes)} volumes given hold 0 "
                     "and 1 alone, a structure's label each, which unstack would join as one "
                     f"mask's channels; {CLASSES_FIX}; nothing was written")


def _class_volume(volumes: list[Path], background: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, z) uint8 class volume of one binary volume per structure, read one at a time
    (TotalSegmentator's 117 structures of a 512 x 512 x 600 CT joined as int64 channels would
    take 147 GB), and the voxels of each slice that more than one structure held."""
    from unet.dataset.nifti import NiftiError, _values

    check_background((1, 1, len(volumes)), background, volumes[0])
    classes = shared = None
    for k, volume in enumerate(c for c in range(len(volumes)) if c != background):
        path = volumes[volume]
        data, colour = _values(path)
        if colour or data.ndim != 3:
            raise NiftiError(f"{path} is not one 3-D label volume ({data.shape}): --classes "
                             "channels joins one binary volume per structure")
        if classes is None:
            classes, shared = np.zeros(data.shape, np.uint8), np.zeros(data.shape, bool)
        elif data.shape != classes.shape:
            raise NiftiError(f"{path} is {data.shape}, but {volumes[0]} is {classes.shape}: "
                             "a subject's structures share its CT's grid; nothing was written")
        held = data != 0
        shared |= held & (classes != 0)
        classes[held & (classes == 0)] = k + 1  # the first given wins
    return classes, np.count_nonzero(shared, axis=(0, 1))


def unstack_structures(volumes: list[Path], out_dir: Path, name: str | None,
                       background: int | None = None) -> tuple[list[Path], str]:
    """The volumes' slices (a volume per structure, or one 4-D volume of class channels) as one
    uint8 class map each, <name>_<k>.png; and a note naming voxels two structures held."""
    from unet.dataset.nifti import _joined, case_name

    for volume in volumes:
        if not volume.is_file():
            raise FileNotFoundError(f"{volume}: no such file")
    stem = case_name(volumes, name)
    check_folder(out_dir)
    if len(volumes) > 1:
        classes, shared = _class_volume(volumes, background)
    else:  # one 4-D volume of class channels (x, y, z, c)
        data, _ = _joined(volumes)
        check_background((*data.shape[:2], data.shape[3] if data.ndim == 4 else 1),
                         background, volumes[0])
        pages = [class_map(data[:, :, k], background) for k in range(data.shape[2])]
        classes = np.stack([p for p, _ in pages], axis=2)
        shared = [n for _, n in pages]
    depth = classes.shape[2]
    names = [slice_name(stem, k, depth) for k in range(depth)]
    refuse_taken(out_dir, names)
    with moved_in_whole(out_dir, names, f"unstack-{stem}") as scratch:
        for k, file in enumerate(names):
            with disk_errors(out_dir / file):  # (y, x): transposed as the CT's slices are
                Image.fromarray(classes[:, :, k].T).save(scratch / file, format="PNG")
    return [out_dir / n for n in names], overlap_note([int(n) for n in shared], names)


def _structure_folder(folder: Path) -> Path | None:
    """The folder of structure volumes a subject folder holds beside its own image volume
    (TotalSegmentator: s0001/ct.nii.gz and s0001/segmentations/), or None. One image volume
    alone: a folder of several cases' volumes beside a labels/ folder of theirs is no subject."""
    if not folder.is_dir() or sum(is_volume(p) for p in folder.iterdir()) != 1:
        return None
    return next((d for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")
                 and sum(is_volume(p) for p in d.iterdir()) >= 2), None)


def structures_loop(folder: Path, out: Path) -> str:
    """Where `folder` is TotalSegmentator-like (the data set's folder of subjects, a subject's,
    or its segmentations/), the loop that splits each subject's image and its structures as one
    class map per slice, both named by the subject; '' where it is not."""
    for subject in (folder, folder.parent):
        seg = _structure_folder(subject)
        if seg is not None and (subject == folder or seg == folder):
            root = subject.parent
            break
    else:
        subject = next((d for d in sorted(folder.iterdir()) if _structure_folder(d)), None) \
            if folder.is_dir() else None
        if subject is None:
            return ""
        seg, root = _structure_folder(subject), folder
    image = next(p for p in sorted(subject.iterdir()) if is_volume(p))
    structures = sorted(p.name for p in seg.iterdir() if is_volume(p) and p.name[0] != ".")
    files = " ".join(f'"$d"{sh(f"{seg.name}/{s}")}' for s in structures)
    masks = out.parent / "masks" if out.name == "images" else Path(f"{out}_masks")
    return (f"{subject} holds an image volume ({image.name}) beside a folder of "
            f"{len(structures)} structure volumes ({seg.name}/: {', '.join(structures)}), "
            "a binary label each; split each subject's image, and its structures together as "
            "one class map per slice (--classes channels: class k the k-th file given, the "
            "first winning where two overlap; put the one that should win first), both named "
            f"by the subject: for d in {sh(root)}/*/; do c=$(basename \"$d\"); unet unstack "
            f"\"$d\"{sh(image.name)} {sh(out)} --name \"$c\"; unet unstack {files} {sh(masks)} "
            "--name \"$c\" --classes channels; done")
