"""What to do with 3-D or medical files (NIfTI, NRRD, MetaImage, DICOM) passed over among a
data set's images: `unet unstack` splits each into 2-D slices named by case."""

from __future__ import annotations

import re
from os.path import commonprefix
from pathlib import Path
from shlex import quote
from typing import NamedTuple

from unet.dataset.names import file_kind, is_nifti, is_volume, listing

# Label volumes kept beside their images (ACDC's patient001_frame01_gt.nii.gz, a Slicer
# case_1.seg.nrrd): a name that ends, before its volume extension, in one of these
LABEL_END = re.compile(r"([_.](gt|seg|labels?|masks?))(\.nii(\.gz)?|\.nrrd|\.nhdr|\.mha|\.mhd"
                       r"|\.dcm)$", re.IGNORECASE)
LABEL_RULE = "names ending _gt, _seg, _label(s), _mask(s) or .seg before the extension"
# a volume's extension
_EXT = re.compile(r"\.nii(\.gz)?$|\.nrrd$|\.nhdr$|\.mha$|\.mhd$", re.IGNORECASE)

# NIfTI volumes are split by `unet unstack` (dataset/nifti.py), a call per volume
NIFTI_FIX = ("NIfTI volumes are split into slices by `unet unstack`, named by case so that "
             "image and label slices pair (pip install -e '.[nifti]'): for f in "
             "{folder}/[!.]*.nii*; do unet unstack \"$f\" {slices}; done, then read "
             "the _slices folders")
# NRRD and MetaImage volumes alike, through SimpleITK (dataset/itk_volume.py)
ITK_FIX = ("NRRD and MetaImage volumes are split into slices by `unet unstack`, named by case "
           "so that image and label slices pair (pip install -e '.[volumes]'): for f in "
           "{folder}/[!.]*{ext}; do unet unstack \"$f\" {slices}; done, then read the "
           "_slices folders")
# 2-D DICOM images are read (common/dicom.py) once their extension is picked up; a series or a
# multi-frame file is one volume, which unstack splits (dataset/dicom_series.py)
DICOM_FIX = ("2-D DICOM images (one frame a file: X-rays, slices) are read: add .dcm to {key} "
             "(pydicom: pip install -e '.[dicom]'); a CT or MR series (its folder of slices) or "
             "a multi-frame .dcm is split into slices as one volume by `unet unstack "
             "SERIES_FOLDER {slices}` (pip install -e '.[volumes]')")
_ITK = (".nrrd", ".nhdr", ".mha", ".mhd")


def sh(path: Path | str) -> str:
    """`path` as a shell word for an advised command: quoted where it needs it (a folder named
    'MoNuSeg 2018 Training Data' split into two words), as it is where it does not."""
    return quote(str(path))


def loop_kind(volume: Path) -> str:
    """The extension an advised loop globs for `volume`'s kind: .nii* (.nii and .nii.gz alike)
    for NIfTI, else its own (.nrrd, .mha, ...)."""
    return ".nii*" if is_nifti(volume) else file_kind(volume)


def fix_text(template: str, folder: Path | str, **kw: str) -> str:
    """A *_FIX `template` for `folder`, its folder and <folder>_slices as shell words."""
    return template.format(folder=sh(folder), slices=sh(f"{folder}_slices"), **kw)


def volume_fix(kinds: list[str], folder: Path, key: str) -> str:
    """'; '-led advice for each kind of volume among `kinds` (file_kind's extensions) found in
    `folder`: the `unet unstack` loop that splits them, or the key that reads 2-D DICOM."""
    out, fixes = Path(f"{folder}_images"), []
    nifti = any(k in (".nii", ".nii.gz") for k in kinds)
    # one loop gives unstack every kind's cases: looked for once, where a volume is found
    modal = modality_loop(folder) if nifti or any(k in _ITK for k in kinds) else ""
    if nifti:
        fixes.append(modal or label_loops(folder, ".nii*", out) or fix_text(NIFTI_FIX, folder))
    for itk in dict.fromkeys(k for k in kinds if k in _ITK):  # .nrrd and .mha: a loop each
        fixes.append(modal or label_loops(folder, itk, out) or fix_text(ITK_FIX, folder, ext=itk))
    if ".dcm" in kinds:
        fixes.append(fix_text(DICOM_FIX, folder, key=key))
    return "".join(f"; {f}" for f in dict.fromkeys(fixes))  # one modality loop said once


def kind_loops(folder: Path, out: Path) -> str:
    """The loops that split `folder`'s volumes into `out`, one set per kind (NIfTI beside
    MetaImage: until 2026-12-07 the first volume's kind alone), labels kept apart."""
    kinds = dict.fromkeys(loop_kind(p) for p in sorted(folder.iterdir())
                          if is_volume(p) and not p.name.startswith("."))
    return "; ".join(filter(None, (label_loops(folder, k, out) for k in kinds))) or (
        "their slices can share a folder: " + "; ".join(
            f"for f in {sh(folder)}/[!.]*{k}; do unet unstack \"$f\" {sh(out)}; done"
            for k in kinds))


def volumes_note(volumes: list[Path]) -> str:
    """A warning naming 3-D or medical files (NIfTI, NRRD, DICOM) passed over beside the 2-D
    images that did pair: a patient left as a volume is no slice of the data set."""
    kinds = [".nii" if is_nifti(v) else file_kind(v) for v in volumes]
    return (f"{len(volumes)} 3-D or medical file(s) passed over, not images the pipeline reads: "
            f"{listing([str(v) for v in volumes])}; if they hold data, export each as one PNG or "
            "TIFF per slice, named alike on both sides"
            + volume_fix(kinds, volumes[0].parent, "dataset.<source>.image_extensions"))


def label_suffixes(folder: Path) -> list[str]:
    """The label endings (`_gt`, `.seg`, ...) of the volumes in `folder` named as labels."""
    if not folder.is_dir():
        return []
    found = (LABEL_END.search(p.name) for p in folder.iterdir()
             if is_volume(p) and not p.name.startswith("."))
    return sorted({m.group(1) for m in found if m})


def _holds_images(folder: Path) -> bool:
    """Whether `folder` holds a volume not named as a label (label_suffixes)."""
    return any(is_volume(p) and not p.name.startswith(".") and not LABEL_END.search(p.name)
               for p in folder.iterdir())


def masks_folder(out: Path) -> Path:
    """The masks' folder beside the images' folder `out`: acdc/images: acdc/masks, else
    <out>_masks."""
    return out.parent / (out.name.removesuffix("images") + "masks" if out.name.endswith(
        "images") else f"{out.name}_masks")


def _cines(folder: Path) -> bool:
    """Whether `folder` holds a volume named as ACDC's cine (patient001_4d.nii.gz): a time
    series, which unstack refuses, so an images loop leaves it out rather than try it."""
    return any(_EXT.sub("", p.name).lower().endswith("_4d") for p in folder.iterdir()
               if is_volume(p))


def _unlabelled(folder: Path, ends: list[str]) -> list[str]:
    """The name endings of the image volumes in `folder` with no label beside them (CAMUS's
    patient0001_2CH_half_sequence, ACDC's patient001_4d): the part after the start they share
    with a labelled image, from its separator, so that one ending covers every case folder.
    Their slices would pair with no mask, so the images loop leaves them out."""
    vols = [_EXT.sub("", p.name) for p in folder.iterdir()
            if is_volume(p) and not p.name.startswith(".")]
    labelled = {v.removesuffix(e) for v in vols for e in ends if v.endswith(e)}
    images = [v for v in vols if not any(v.endswith(e) for e in ends)]
    found = set()
    for stem in (v for v in images if v not in labelled):
        shared = max((len(commonprefix([stem, x])) for x in labelled), default=0)
        cut = max(stem.rfind(c, 0, shared) for c in "_-.")
        found.add(stem[max(cut, 0):])
    # an ending a labelled image also has cannot be skipped without losing that image
    return sorted(e for e in found if not any(x.endswith(e) for x in labelled))


def label_loops(folder: Path, ext: str, out: Path, cases: Path | None = None) -> str:
    """Where `folder` holds label volumes beside its images (ACDC keeps each patient's frames
    and their _gt files together), the two loops that split them apart, images into `out` and
    labels named as their image (--name) into the masks folder beside it (into `out` itself
    for a folder of labels alone, unless `out` is named images); '' where it holds none, so
    that a loop over the whole folder (nnU-Net's imagesTr) is right. `cases`: the folder of
    such case folders (ACDC's training/), whose every case the loops then cover."""
    ends = label_suffixes(folder)
    if not ends:
        return ""
    masks = masks_folder(out)
    alone = not _holds_images(folder)
    if alone and not out.name.endswith("images"):
        masks = out  # a folder of labels alone split into the folder given (x/masks)
    glob = f"{sh(cases)}/*" if cases else sh(folder)
    loops = "; ".join(f"for f in {glob}/[!.]*{e}{ext}; do n=$(basename \"$f\"); unet unstack "
                      f"\"$f\" {sh(masks)} --name \"${{n%%{e}.*}}\"; done" for e in ends)
    where = f" (as each case folder in {cases}: the loops cover them all)" if cases else ""
    if alone:  # no image to split: an images loop would split nothing
        return (f"{folder} holds label volumes alone ({LABEL_RULE}: {', '.join(ends)}){where}; "
                f"split them as masks named as their image: {loops}")
    cine = _cines(folder)
    bare = [e for e in _unlabelled(folder, ends) if not (cine and e.lower() == "_4d")]
    skip = "|".join(f"*{e}{ext}" for e in [*ends, *(["_4d"] if cine else []), *bare])
    why = (" and a _4d cine (a time series, which unstack refuses: its ED and ES frames are "
           "the files beside it)") if cine else ""
    why += (f" and volumes with no label beside them ({', '.join(bare)}: a cine's unlabelled "
            "frames, whose slices would pair with no mask)") if bare else ""
    return (f"{folder} holds label volumes beside its images ({LABEL_RULE}: "
            f"{', '.join(ends)}){why}{where}, which a loop over every {ext} would split in with "
            f"the images; split the images alone: for f in {glob}/[!.]*{ext}; do case \"$f\" in "
            f"{skip}) continue;; esac; unet unstack \"$f\" {sh(out)}; done, and the labels as "
            f"masks named as their image: {loops}")


# One case's modality volumes, which `unet unstack` joins as one slice's channels when given
# together: BraTS 2021 (and 2020) <case>_flair, _t1, _t1ce, _t2; BraTS 2023 <case>-t1c, -t1n,
# -t2f, -t2w; each case beside its label, <case>_seg (-seg)
MODALITY_SETS = ({"flair", "t1", "t1ce", "t2"}, {"t1c", "t1n", "t2f", "t2w"})
_MODALITY = re.compile(r"(.+?)([-_])(flair|t1ce|t1[cn]?|t2[fw]?|seg)")
_CHANNEL = re.compile(r"(.+)(_)(\d{4})")  # nnU-Net's raw layout: <case>_0000, <case>_0001 ...


def _cases(folder: Path, scheme: re.Pattern[str]) -> tuple[dict[str, set[str]], str, str]:
    """{case: its ends (_flair, _0000, ...)}, the separator and the one extension, where every
    volume in `folder` is named <case><sep><end> by `scheme`; empty where one is not."""
    vols = [p.name for p in folder.iterdir() if is_volume(p) and not p.name.startswith(".")]
    exts = {m.group(0) for m in map(_EXT.search, vols) if m}
    parts = [scheme.fullmatch(_EXT.sub("", v)) for v in vols]
    if not vols or len(exts) != 1 or not all(parts) or len({m.group(2) for m in parts}) != 1:
        return {}, "", ""
    cases: dict[str, set[str]] = {}
    for m in parts:
        cases.setdefault(m.group(1), set()).add(m.group(3))
    return cases, parts[0].group(2), exts.pop()


class Modalities(NamedTuple):
    """A folder's cases of modality volumes: what they are, the ends in channel order, the
    label's file as the loop names it ('' where none), the separator and the extension."""

    kind: str
    cases: set[str]
    ends: list[str]
    label: str
    sep: str
    ext: str


def _modalities(folder: Path) -> Modalities | None:
    """BraTS's or nnU-Net's modality volumes in `folder`, or None where it holds other files."""
    cases, sep, ext = _cases(folder, _MODALITY)
    ends = {frozenset(e - {"seg"}) for e in cases.values()}
    labelled = {"seg" in e for e in cases.values()}
    if len(ends) == 1 and len(labelled) == 1 and len(found := set(next(iter(ends)))) > 1 \
            and any(found <= s for s in MODALITY_SETS):
        label = f'"$d/${{c}}{sep}seg{ext}"' if labelled.pop() else ""
        return Modalities("BraTS", set(cases), sorted(found), label, sep, ext)
    cases, sep, ext = _cases(folder, _CHANNEL)
    ends = {frozenset(e) for e in cases.values()}
    if len(ends) != 1 or sorted(map(int, found := next(iter(ends)))) != list(range(len(found))):
        return None  # AMOS's cases amos_0001, amos_0004 are numbered too, not from 0000
    labels = folder.parent / f"labels{folder.name.removeprefix('images')}"  # labelsTr
    if len(cases) == 1 and not (labels / f"{min(cases)}{ext}").is_file():
        return None  # scan_0000 ... scan_0005 alone: a scan a file as likely as one's channels
    label = f'{sh(labels)}/"${{c}}{ext}"' if folder.name.startswith("images") and labels.is_dir() \
        else ""
    return Modalities("nnU-Net's channels", set(cases), sorted(found), label, sep, ext)


def modality_loop(folder: Path, out: Path | None = None) -> str:
    """Where `folder` holds cases of modality volumes (BraTS, nnU-Net's imagesTr), the loop that
    gives unstack each case's modalities together, in one order, as one slice's channels, and
    its label named by the case (into `out`, <root>_images by default); '' where it does not."""
    got = _modalities(folder) if folder.is_dir() else None
    if got is None:
        return ""
    root = folder.parent if got.cases == {folder.name} else folder  # BraTS: a folder per case
    out = out or Path(f"{root}_images")
    first = f"{got.sep}{got.ends[0]}{got.ext}"
    files = " ".join(f'"$d/${{c}}{got.sep}{e}{got.ext}"' for e in got.ends)
    seg = f'; unet unstack {got.label} {sh(masks_folder(out))} --name "$c"' if got.label else ""
    where, glob = "", f"{sh(folder)}/[!.]*{first}"
    if root != folder:
        where, glob = (f" (a folder per case: the loop covers every case folder in {root})",
                       f"{sh(root)}/*/[!.]*{first}")
    one = f"{min(got.cases)}{got.sep}{got.ends[0]}"
    return (f"{folder} holds modality volumes ({got.kind}: {', '.join(got.ends)}){where}, which "
            f"a loop over every {got.ext} would split each as an image named by its file "
            f"({one}_000 ...), pairing with no label slice; give unstack "
            "a case's modalities together, joined as one slice's channels in this order, "
            f"{'and its label ' if got.label else ''}named by the case: for f in {glob}; do "
            f'd=$(dirname "$f"); c=$(basename "$f" {first}); unet unstack {files} {sh(out)} '
            f'--name "$c"{seg}; done')
