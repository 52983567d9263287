"""A DICOM RTSTRUCT file (radiotherapy contours: organs at risk, target volumes) read as its
ROIs, each a list of planar contours in patient millimetres, for `unet rtstruct`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class Contour:
    """One contour of an ROI: its geometric type, (n, 3) x, y, z points in patient mm, and the
    SOPInstanceUIDs of the image slices it names (none where the exporter leaves them out)."""

    kind: str
    points: np.ndarray
    slices: list[str] = field(default_factory=list)


@dataclass
class Roi:
    """An ROI of the structure set: its ROINumber, ROIName and contours."""

    number: int
    name: str
    contours: list[Contour] = field(default_factory=list)

    def closed(self) -> list[Contour]:
        """The CLOSED_PLANAR contours, the ones that enclose an area."""
        return [c for c in self.contours if c.kind == "CLOSED_PLANAR"]


def pydicom_module(path: Path):
    """pydicom, or an error naming the file and the extra that installs it."""
    from unet.common.dicom import INSTALL

    try:
        import pydicom
    except ImportError:
        raise ValueError(f"{path}: reading DICOM RTSTRUCT and CT files needs pydicom: "
                         f"{INSTALL}") from None
    return pydicom


@dataclass
class StructureSet:
    """An RTSTRUCT's ROIs in ROINumber order, and the frames of reference (patient coordinate
    systems) and image series it says it was drawn on (empty where it does not say)."""

    rois: list[Roi]
    frames: set[str] = field(default_factory=set)
    series: set[str] = field(default_factory=set)


def read_rois(path: Path) -> StructureSet:
    """The ROIs of RTSTRUCT file `path` in ROINumber order, their contours attached, with the
    frames and series it references; a file of another Modality (a CT slice given in its
    place) is refused by name."""
    pydicom = pydicom_module(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such RTSTRUCT file")
    try:
        ds = pydicom.dcmread(path, force=True)
        modality = str(ds.get("Modality", "") or "")
    except (pydicom.errors.InvalidDicomError, OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable DICOM file ({err})") from err
    if modality != "RTSTRUCT":
        raise ValueError(f"{path} is no RTSTRUCT file (its Modality is {modality or 'not set'}): "
                         "give the structure set's file first (Modality RTSTRUCT, often "
                         "1-1.dcm in its own series folder), then the CT series' folder")
    rois = {int(r.ROINumber): Roi(int(r.ROINumber), str(r.get("ROIName", "") or ""))
            for r in ds.get("StructureSetROISequence", [])}
    for item in ds.get("ROIContourSequence", []):
        number = int(item.ReferencedROINumber)
        if number not in rois:  # a contour of no listed ROI: named by its number alone
            rois[number] = Roi(number, f"ROI {number}")
        rois[number].contours += [_contour(c) for c in item.get("ContourSequence", [])]
    return StructureSet([rois[n] for n in sorted(rois)], *_references(ds))


def _references(ds) -> tuple[set[str], set[str]]:
    """The FrameOfReferenceUIDs and SeriesInstanceUIDs of ReferencedFrameOfReferenceSequence."""
    frames, series = set(), set()
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        frames.add(str(frame.get("FrameOfReferenceUID", "") or ""))
        for study in frame.get("RTReferencedStudySequence", []):
            series |= {str(s.get("SeriesInstanceUID", "") or "")
                       for s in study.get("RTReferencedSeriesSequence", [])}
    return frames - {""}, series - {""}


def _contour(item) -> Contour:
    """A ContourSequence item as a Contour."""
    points = np.asarray([float(v) for v in item.get("ContourData", [])], np.float64)
    slices = [str(r.ReferencedSOPInstanceUID) for r in item.get("ContourImageSequence", [])
              if "ReferencedSOPInstanceUID" in r]
    return Contour(str(item.get("ContourGeometricType", "") or "").upper(),
                   points[: len(points) // 3 * 3].reshape(-1, 3), slices)


def pick_rois(rois: list[Roi], names: list[str] | None, path: Path) -> list[Roi]:
    """The ROIs to draw, in class order: `names`' order (matched as written, else ignoring
    case), or every ROI in ROINumber order; a name no ROI has is refused, listing them."""
    if not names:
        return list(rois)
    picked = []
    for name in names:
        found = [r for r in rois if r.name == name] or \
            [r for r in rois if r.name.casefold() == name.casefold()]
        if len(found) != 1:
            listed = ", ".join(repr(r.name) for r in rois)
            why = "no ROI" if not found else f"{len(found)} ROIs"
            raise ValueError(f"--roi {name!r}: {path} has {why} of that name; its ROIs are "
                             f"{listed} (unet rtstruct {path} --list counts their contours)")
        if found[0] in picked:
            raise ValueError(f"--roi {name!r} is given twice: give each ROI once")
        picked.append(found[0])
    return picked


def roi_lines(rois: list[Roi]) -> list[str]:
    """`--list`'s lines: each ROI's number, name and contour counts."""
    lines = []
    for r in rois:
        other = len(r.contours) - len(r.closed())
        lines.append(f"{r.number:>4}  {r.name}: {len(r.closed())} closed contour"
                     + "s" * (len(r.closed()) != 1)
                     + (f" ({other} point or open, not drawn)" if other else ""))
    return lines or ["(no ROIs)"]


def warn_skipped(rois: list[Roi]) -> None:
    """Warn of the POINT and OPEN contours of the ROIs drawn: they enclose no area."""
    for r in rois:
        kinds = sorted({c.kind or "unset" for c in r.contours} - {"CLOSED_PLANAR"})
        if kinds:
            n = len(r.contours) - len(r.closed())
            log.warning("ROI %r: %d contour(s) of type %s enclose no area and are not drawn",
                        r.name, n, "/".join(kinds))
