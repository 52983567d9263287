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
from unet.dataset.unstack import _moved_in_whole, _refuse_taken, slice_name

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
    data, _ = _joined(volumes)  # (x, y, z, structures), checked to share one grid
    check_background((*data.shape[:2], data.shape[3] if data.ndim == 4 else 1), background,
                     volumes[0])
    depth = data.shape[2]
    names = [slice_name(stem, k, depth) for k in range(depth)]
    _refuse_taken(out_dir, names)
    overlaps = []
    with _moved_in_whole(out_dir, names, f"unstack-{stem}") as scratch:
        for k, file in enumerate(names):
            # (y, x, c): transposed as unstack_volumes transposes the CT's slices
            page, both = class_map(data[:, :, k].swapaxes(0, 1), background)
            overlaps.append(both)
            with disk_errors(out_dir / file):
                Image.fromarray(page).save(scratch / file, format="PNG")
    return [out_dir / n for n in names], overlap_note(overlaps, names)


def _structure_folder(folder: Path) -> Path | None:
    """The folder of structure volumes a subject folder holds beside its own image volume
    (TotalSegmentator: s0001/ct.nii.gz and s0001/segmentations/), or None."""
    if not folder.is_dir() or not any(is_volume(p) for p in folder.iterdir()):
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
    files = " ".join(f'"$d/{seg.name}/{s}"' for s in structures)
    masks = out.parent / "masks" if out.name == "images" else Path(f"{out}_masks")
    return (f"{subject} holds an image volume ({image.name}) beside a folder of "
            f"{len(structures)} structure volumes ({seg.name}/: {', '.join(structures)}), "
            "a binary label each; split each subject's image, and its structures together as "
            "one class map per slice (--classes channels: class k the k-th file given, the "
            "first winning where two overlap; put the one that should win first), both named "
            f"by the subject: for d in {root}/*/; do c=$(basename \"$d\"); unet unstack "
            f"\"$d/{image.name}\" {out} --name \"$c\"; unet unstack {files} {masks} "
            "--name \"$c\" --classes channels; done")
