"""A DICOM series, a folder of files one slice each (CT and MR exports: LIDC-IDRI, CHAOS, TCIA
downloads), read as one volume through SimpleITK's series reader: slices ordered by their
position along the slice normal, not by file name, DICOM's rescale applied."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet.common.dicom import is_dicom
from unet.dataset.arrays import ARRAY_KINDS
from unet.dataset.names import _DOCUMENTS, _READABLE, ARCHIVE_NAMES, COMPRESSED, UNSTACKED
from unet.dataset.nifti import NiftiError
from unet.dataset.volume_notes import sh

log = logging.getLogger(__name__)
# A step this many times the median spacing between neighbouring slices: a slice missing
GAP = 1.5
# A step further than this share of the median from it: unequal spacing (positions are written
# rounded, 2.5 as 2.50001, so exact equality is too strict)
UNEQUAL = 0.01
AS_IMAGES = "or read its files as 2-D images, a slice each, with .dcm in image_extensions"


# MetaImage's pixel files and sidecars beside data (a BIDS .json, a series' .csv listing)
_DATA_FILES = (".raw", ".zraw")
_SIDECARS = (".json", ".csv", ".tsv", ".xml")
# Files named as another format, never read for a 'DICM' mark: a folder of BraTS case
# folders (1,251 of 5 .nii.gz) cost 6,255 reads before its advice. Drawn from the formats the
# project reads (a format added there is passed over here too); DICOM exports name their files
# .dcm, .ima, by number (1-001) or by UID (1.2.840....), which are still read.
OTHER_FORMATS = frozenset(
    {Path(f"a{x}").suffix for x in UNSTACKED if x != ".dcm"}  # .nii.gz as its last suffix
    | _READABLE | set(ARRAY_KINDS) | {Path(f"a{x}").suffix for x in ARCHIVE_NAMES}
    | set(COMPRESSED) | set(_DOCUMENTS) | set(_DATA_FILES) | set(_SIDECARS))


def is_series_folder(folder: Path) -> bool:
    """Whether `folder` holds DICOM files (by extension or by their 'DICM' mark) to read as a
    series; hidden files (a Mac's ._IM0001.dcm) are passed over."""
    return folder.is_dir() and any(
        not p.name.startswith(".") and p.is_file()
        and (p.suffix.lower() == ".dcm" or p.suffix.lower() not in OTHER_FORMATS and is_dicom(p))
        for p in folder.iterdir())


def refuse_study_folder(folder: Path, out_dir: Path) -> None:
    """Refuse a folder of series folders (LIDC-IDRI's and TCIA's <patient>/<study>/<series>/),
    naming them, with a loop that splits each; nothing when it holds none."""
    inside = sorted(d for d in folder.iterdir() if not d.name.startswith(".")
                    and is_series_folder(d)) if folder.is_dir() else []
    if inside:
        named = ", ".join(d.name for d in inside[:3]) + (" ..." if len(inside) > 3 else "")
        raise ValueError(f"{folder} holds {len(inside)} folder(s) of DICOM files ({named}), "
                         "not a series' files: unstack reads one series folder a call, its "
                         f"slices named after it: for d in {sh(folder)}/*/; do unet unstack "
                         f"\"$d\" {sh(out_dir)}; done (or --name CASE a call where they share "
                         "a name)")
    _refuse_patient_folder(folder, out_dir)


def _refuse_patient_folder(folder: Path, out_dir: Path) -> None:
    """Refuse a patient's folder of study folders of series (LIDC-IDRI's <patient>/), naming
    its series with the call that names the slices after the patient, as its labels are."""
    if not folder.is_dir():
        return
    deeper = sorted(s for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")
                    for s in d.iterdir() if not s.name.startswith(".") and is_series_folder(s))
    if not deeper:
        return
    calls = "; ".join(f'unet unstack "{s}" {out_dir} --name {folder.name}' for s in deeper[:3])
    raise ValueError(f"{folder} holds {len(deeper)} DICOM series folder(s) a level down (a "
                     "patient's <study>/<series>/), not a series' files: unstack reads one "
                     f"series folder a call; {'pick the one to split: ' * (len(deeper) > 1)}"
                     f"{calls}{' ...' * (len(deeper) > 3)} (--name names the slices after the "
                     "patient, to pair with labels named so; without it, after the series folder)")


def series_files(sitk, folder: Path, uid: str | None) -> list[str]:
    """The files of the folder's one series (or of series `uid`), ordered by slice position;
    a folder of several series is refused, listing each with its number of files."""
    with _quiet(sitk):
        found = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not found:
        raise NiftiError(f"{folder} holds no DICOM series SimpleITK reads (no file with a "
                         "SeriesInstanceUID and pixels): give a folder of a series' .dcm files, "
                         f"{AS_IMAGES}")
    if uid is None and len(found) == 1:
        uid = found[0]
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames
    if uid not in found:
        counts = [len(files(str(folder), u)) for u in found]
        listed = "; ".join(f"{u} ({n} file{'s' * (n != 1)})" for u, n in zip(found, counts,
                                                                            strict=True))
        pick = f"--series {uid} is none of them" if uid else "pick one with --series UID"
        raise NiftiError(f"{folder} holds {len(found)} DICOM series (SeriesInstanceUID: {listed})"
                         f": {pick}, or move each series into a folder of its own; {AS_IMAGES}")
    return list(files(str(folder), uid))


def read_series(sitk, folder: Path, uid: str | None, strict: bool):
    """The series as one SimpleITK image; slices unevenly spaced or missing (a step over GAP
    times the median) warned of, naming their positions, or refused where `strict` (a label
    volume on its grid would not lie on the slices)."""
    key = (Path(folder).absolute(), uid)
    if _held is not None and key in _held:
        image, uneven = _held[key]
    else:
        image, uneven = _read_whole(sitk, folder, uid)
        if _held is not None:
            _held[key] = image, uneven
    if uneven and strict:
        raise NiftiError(f"the DICOM series in {folder}: {uneven}; a label volume holds one "
                         "spacing, so its labels would not lie on these slices: nothing was "
                         "written")
    if uneven:
        log.warning("the DICOM series in %s: %s; its slices are split all the same, but unet "
                    "restack refuses this series as a reference", folder, uneven)
    return image


# read_series' (image, what is uneven) by (folder, uid) while held_series is open, else None
_held: dict | None = None


@contextmanager
def held_series() -> Iterator[None]:
    """Within it, each DICOM series is read once: `unet unstack` took a series' slices and then
    its spacing from two whole reads of every file."""
    global _held
    outer, _held = _held, {} if _held is None else _held
    try:
        yield
    finally:
        _held = outer


def _read_whole(sitk, folder: Path, uid: str | None):
    """The series' image, slices at one position refused, and what is uneven about them."""
    files = series_files(sitk, folder, uid)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    try:
        with _quiet(sitk):
            image = reader.Execute()
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise NiftiError(f"cannot read the DICOM series in {folder}: {reason}. Check its files "
                         f"(slices of different sizes, a scout among them?); {AS_IMAGES}") from err
    where = _positions(reader, image, len(files))
    _refuse_repeats(where, folder)
    return image, _uneven(where) if len(files) >= 3 else ""


@contextmanager
def _quiet(sitk) -> Iterator[None]:
    """ITK's warnings off: a C++ source line on stderr ('No Series were found', 'Non uniform
    sampling'), where our own message says it with the folder and the positions."""
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)


def _positions(reader, image, count: int) -> np.ndarray | None:
    """(slices,) mm along the slice normal, as the reader ordered them; None without
    ImagePositionPatient."""
    try:
        points = np.array([[float(v) for v in reader.GetMetaData(k, "0020|0032").split("\\")]
                           for k in range(count)])
    except (RuntimeError, ValueError):
        return None
    return points @ np.reshape(image.GetDirection(), (3, 3))[:, 2]


def _refuse_repeats(where: np.ndarray | None, folder: Path) -> None:
    """Refuse a series with slices at one position (echoes, phases or b-values sharing the
    SeriesInstanceUID, or a file copied): split, they would interleave, and label slices named
    by position would pair with other positions' images."""
    if where is None or len(where) < 2:
        return
    distinct = len(np.unique(np.round(where, 3)))  # positions are written to 1e-5 mm or so
    if distinct == len(where):
        return
    raise NiftiError(
        f"the DICOM series in {folder}: its {len(where)} files lie at {distinct} positions "
        "along the slice normal, some slices at one place (several echoes, phases or b-values "
        "of one series, sharing its SeriesInstanceUID, or a file copied twice?): split as one "
        "volume they would interleave, and label slices would pair with another position's "
        "image; move each echo's or phase's files (EchoNumbers 0018,0086; "
        "TemporalPositionIdentifier 0020,0100) into a folder of its own and unstack each with "
        "--name; nothing was written")


def _uneven(where: np.ndarray | None) -> str:
    """What is uneven about the slices' positions along the slice normal, or ''."""
    if where is None:
        return "its slices carry no ImagePositionPatient, so they are in file-name order"
    count = len(where)
    steps = np.diff(where)
    median = float(np.median(steps))
    listed = ", ".join(f"{z:g}" for z in where[:40]) + (" ..." if count > 40 else "")
    if median <= 0:
        return f"its slices do not advance along the slice normal (at {listed} mm)"
    gaps = [k for k, s in enumerate(steps) if s > GAP * median]
    odd = [k for k, s in enumerate(steps) if abs(s - median) > UNEQUAL * median]
    if not odd:
        return ""
    what = (f"{len(gaps)} gap(s) over {GAP}x the median spacing {median:g} mm (a slice missing?"
            " a download cut short?)" if gaps else f"spacing unequal (median {median:g} mm)")
    steps_at = "; ".join(f"{where[k]:g} to {where[k + 1]:g}" for k in (gaps or odd)[:5])
    return f"{what}: from {steps_at} mm; slices at {listed} mm"
