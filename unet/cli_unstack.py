"""`unet unstack`: a TIFF stack, NIfTI volumes or an array file (.npy, .npz, .h5, a Zarr
store) to one 2-D file per page or slice."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from unet.cli_types import number
from unet.cli_types import path as path_arg

# an array file's alone
_ARRAY_FLAGS = ("key", "axis", "classes", "background", "instance_classes", "instance_ids")


def _unstack(args: argparse.Namespace) -> int:
    from unet.dataset.arrays import is_array
    from unet.dataset.dicom_series import is_series_folder
    from unet.dataset.names import is_volume
    from unet.dataset.unstack import unstack

    stacks = [Path(s) for s in args.stack]
    # a Zarr store's folder holds chunks, no DICOM: not each read for a DICOM mark
    series = [s for s in stacks if s.is_dir() and not is_array(s) and is_series_folder(s)]
    if args.series is not None and stacks != series[:1]:
        raise ValueError(f"--series picks one DICOM series of a folder that holds several; give "
                         f"that folder alone (not {', '.join(map(str, stacks))})")
    if len(stacks) == 1 and is_array(stacks[0]):
        return _unstack_array(args, stacks[0])
    if all(is_array(s) for s in stacks):
        return _unstack_arrays(args, stacks)
    volumes = [s for s in stacks if is_volume(s) or s in series]
    labels = args.classes and volumes == stacks and not series  # a binary volume a structure
    given = [f"--{f.replace('_', '-')}" for f in _ARRAY_FLAGS if getattr(args, f) not in (None, 0)
             and not (labels and f in ("classes", "background"))]  # (else dropped unread)
    if labels and not given:
        return _unstack_structures(args, stacks)
    if given:
        raise ValueError(f"{given[0]} is for an array file (.npy, .npz, .h5, .hdf5, .mat, "
                         ".zarr), one a call (--classes, --background: or label volumes); "
                         f"{stacks[0]} is none")
    if len(stacks) > 1 and volumes != stacks:
        raise ValueError(f"{next(s for s in stacks if s not in volumes)}: several files are for "
                         "a case's volumes (NIfTI, NRRD, MetaImage, DICOM), a file (or DICOM "
                         "series folder) per modality; split a TIFF stack alone: unet unstack "
                         "STACK.tif FOLDER (--name CASE to name its pages CASE_000 ...)")
    if volumes != stacks:
        _written(unstack(stacks[0], args.folder, args.name), "page", args.folder)
        return 0
    from unet.dataset.dicom_series import held_series
    from unet.dataset.nifti import unstack_volumes
    from unet.dataset.spacing_table import check_table

    check_table(args.folder)  # its row is added after the slices: refused before them
    with held_series():  # a DICOM series' slices and its spacing from one read
        _written(unstack_volumes(stacks, Path(args.folder), args.name, args.series), "slice",
                 args.folder)
        _record_spacing(args, stacks)  # slices carry no voxel size: HD95 needs it
    return 0


def _record_spacing(args: argparse.Namespace, volumes: list[Path]) -> None:
    """Print the case's voxel size and put it in the folder's spacing.csv (its row replaced,
    or removed where the header gives none), for evaluate.voxel_spacing."""
    from unet.dataset.nifti import case_name
    from unet.dataset.spacing import spacing_line, voxel_spacing
    from unet.dataset.spacing_table import record_spacing

    got = voxel_spacing(volumes[0], args.series)
    table = record_spacing(args.folder, case_name(volumes, args.name),
                           *(got if got is not None else (None, "")))
    line = spacing_line(volumes[0], got)
    if line:
        print(f"{line} (or the table: evaluate.voxel_spacing: {table.as_posix()}, each case "
              "its own)")


def _unstack_structures(args: argparse.Namespace, volumes: list[Path]) -> int:
    """A structure's binary label volume each (TotalSegmentator), as one class map a slice."""
    from unet.dataset.spacing_table import check_table
    from unet.dataset.structure_volumes import unstack_structures

    check_table(args.folder)
    written, note = unstack_structures(volumes, Path(args.folder), args.name, args.background)
    _written(written, "slice", args.folder, note)
    _record_spacing(args, volumes)
    return 0


def _unstack_array(args: argparse.Namespace, path: Path) -> int:
    from unet.dataset.arrays import array_stem, unstack_array

    written, note = unstack_array(path, args.folder, args.key, args.axis, args.name,
                                  args.classes, args.background, args.instance_classes,
                                  args.instance_ids)
    # a 2-D array (an OME-Zarr image of one plane) written whole, as <stem>, no _000
    if len(written) == 1 and written[0].stem == array_stem(path, args.name):
        print(f"1 image written: {written[0]}" + (f"\nnote: {note}" if note else ""))
        return 0
    _written(written, "slice", args.folder, note)
    return 0


def _unstack_arrays(args: argparse.Namespace, paths: list[Path]) -> int:
    """Several array files, each split as alone and named by its own stem: Synapse's 2211
    train_npz slices in one call, where a call each started Python 4422 times."""
    from unet.dataset.arrays import array_stem, joint_type, unstack_array

    if args.name is not None:
        raise ValueError(f"--name names one array file's slices; {len(paths)} were given "
                         f"({paths[0]}, {paths[1]} ...): leave --name out to name each by its "
                         "stem, or give one array file a call")
    stems = [array_stem(p, None) for p in paths]
    clash = next((s for s, n in Counter(stems).items() if n > 1), None)
    if clash is not None:  # the second would be refused half-way, the first already written
        both = [str(p) for p, s in zip(paths, stems, strict=True) if s == clash][:2]
        raise ValueError(f"{both[0]} and {both[1]} have one stem, {clash!r}: their slices "
                         "would share names; give them in calls of their own with --name")
    # one type for all: a slice's own values (a blank CT slice's 0s) chose a PNG of it, read
    # as 1/255 of the float TIFFs' range beside them (class maps: uint8 whatever the values)
    plain = args.classes is None and args.instance_classes is None
    as_type = joint_type(paths, args.key) if plain else None
    if not plain:
        _opened_all(paths, args.key)
    written, notes = [], []
    for path in paths:
        got, note = unstack_array(path, args.folder, args.key, args.axis, None, args.classes,
                                  args.background, args.instance_classes, args.instance_ids,
                                  as_type=as_type)
        written += got
        notes += [f"{path.name}: {note}"] if note else []
    # each a 2-D array written whole, as <stem>, no _000
    whole = [w.stem for w in written] == stems
    _written(written, "image" if whole else "slice", args.folder, "; ".join(notes) or None)
    return 0


def _opened_all(paths: list[Path], key: str | None) -> None:
    """Open each array file (`key` in it) before any is written, as joint_type does for plain
    values: class maps read no joint type, so a later file unreadable or without `key` stopped
    the call with the files before it written."""
    from unet.dataset.array_open import opened_array

    for path in paths:
        with opened_array(path, key):
            pass


def _written(written: list[Path], what: str, folder: str, note: str | None = None) -> None:
    """Print how many files were written where (first ... last), then the writer's note."""
    print(f"{len(written)} {what}{'s' * (len(written) != 1)} written to {folder}"
          + (f" ({written[0].name}" + f" ... {written[-1].name}" * (len(written) > 1) + ")"
             if written else ""))
    if note:
        print(f"note: {note}")


def unstack_arguments(p: argparse.ArgumentParser) -> None:
    """unet unstack's arguments."""
    p.add_argument("stack", nargs="+", type=path_arg,
                   help="multi-page file, e.g. ISBI 2012's train-volume.tif, or a volume (.nii, "
                        ".nii.gz, .nrrd, .seg.nrrd, .mha, .mhd, multi-frame .dcm, or a DICOM "
                        "series: a folder of its .dcm files, a slice each), e.g. "
                        "imagesTr/liver_003.nii.gz, or a case's volumes, one per "
                        "modality, joined as channels in the order given (BraTS 2021's "
                        "<case>_flair, _t1, _t1ce, _t2), or an array file: .npy (PanNuke's "
                        "images.npy), .npz, .h5/.hdf5 (CREMI's sample_A.hdf5), MATLAB .mat "
                        "(CoNSeP's, Lizard's labels; v5 or v7.3; a 2-D array written whole, "
                        "<stem>.png), or a Zarr store (OME-Zarr image.ome.zarr: a plane a "
                        "file, channels last), or several array files, each split alone "
                        "(Synapse's train_npz/*.npz)")
    p.add_argument("folder", type=path_arg,
                   help="folder for 0.png, 1.png, ... (zero-padded), or a volume's or array's "
                        "<stem>_000.png (.tif: signed, 32-bit, float or multi-channel) ...; "
                        "never overwritten")
    p.add_argument("--name", help="the slices' stem, <name>_000 ...; default: the volume's or "
                   "array file's stem, or the volumes' common start (BraTS2021_00000), e.g. "
                   "the case's name for its _seg volume, so that its slices pair with the "
                   "images; a TIFF stack's pages are 00.png ... (zero-padded to the page count) "
                   "unless given")
    p.add_argument("--series", metavar="UID", help="the SeriesInstanceUID of the DICOM series "
                   "to read, where the folder given holds several (unstack lists them)")
    p.add_argument("--key", help="the array in a .npz (X, Y), HDF5 (volumes/raw, "
                   "volumes/labels/neuron_ids), .mat file (type_map, inst_map) or Zarr store "
                   "(OME-Zarr: 1 for a coarser level, labels/nuclei); default: the only one, "
                   "an OME-Zarr image's full resolution")
    p.add_argument("--axis", type=number(int, None), default=0,
                   help="an array's axis to split along (default 0: N x H x W[ x C], Z x Y x X)")
    p.add_argument("--classes", choices=["channels"],
                   help="channels: each slice's channels (H x W x C, one-hot or instance ids "
                        "per class, as PanNuke's masks; or a binary volume per structure given "
                        "together, TotalSegmentator's liver.nii.gz spleen.nii.gz ...) as one "
                        "class map, 1 for the first class channel, 2 for the next, 0 where none "
                        "is nonzero; a pixel two hold gets the first's class (their count is "
                        "printed)")
    p.add_argument("--instance-classes", metavar="KEY",
                   help="the file's class per instance (Lizard's class, CoNSeP's inst_type): "
                        "the --key instance map (inst_map) written as its instances' classes, "
                        "0 kept; an id not listed is refused")
    p.add_argument("--instance-ids", metavar="KEY",
                   help="with --instance-classes: the instances' ids, a row each (default: "
                        "the file's id where it holds one, as Lizard's, else 1, 2, ...)")
    p.add_argument("--background", type=number(int, 0),
                   help="with --classes channels: the channel that is no class (PanNuke: 5)")
