"""An RTSTRUCT's ROIs drawn on its CT series: one label PNG per CT slice, named by the slice
file's stem, so that `masks: OUT` pairs with `images: CT` under `image_extensions: [.dcm]`."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from unet.common.fileio import check_folder, disk_errors
from unet.dataset.json_masks import fill_rings
from unet.dataset.rtstruct import Roi, StructureSet, pydicom_module
from unet.dataset.unstack import moved_in_whole, refuse_taken

log = logging.getLogger(__name__)
TABLE = "rtstruct_classes.csv"  # the class table written beside the masks


@dataclass
class CtSlice:
    """A CT slice file's geometry: where its first pixel's centre lies, its row and column
    direction cosines, the mm between columns and between rows, and its size."""

    path: Path
    uid: str
    series: str
    origin: np.ndarray  # (3,) ImagePositionPatient, mm
    row: np.ndarray  # (3,) direction of increasing column index
    col: np.ndarray  # (3,) direction of increasing row index
    spacing: tuple[float, float]  # (between columns, between rows) mm
    size: tuple[int, int]  # (rows, columns)
    frame: str = ""  # FrameOfReferenceUID: the patient coordinate system its mm are in

    def normal(self) -> np.ndarray:
        """The slice normal, the axis slices are placed along."""
        return np.cross(self.row, self.col)

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """(n, 2) x, y of (n, 3) patient mm points in fill_rings's frame: pixel (0, 0) spans
        0..1, so its centre (ImagePositionPatient) is at 0.5, 0.5."""
        d = points - self.origin
        return np.stack([d @ self.row / self.spacing[0], d @ self.col / self.spacing[1]],
                        axis=1) + 0.5


def read_slices(folder: Path) -> list[CtSlice]:
    """The geometry of every .dcm in `folder`, a series' slices; no .dcm, a file that is no
    image slice, or several series are refused by name."""
    pydicom = pydicom_module(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of CT slices")
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() == ".dcm" and not p.name.startswith(".") and p.is_file())
    if not files:
        raise ValueError(f"{folder} holds no .dcm files: give the folder of the CT series' "
                         "slices, a .dcm each")
    slices = [_slice(pydicom, f) for f in files]
    series: dict[str, list[Path]] = {}
    for s in slices:
        series.setdefault(s.series, []).append(s.path)
    if len(series) > 1:
        named = "; ".join(f"{uid} ({len(p)} files, e.g. {p[0].name})"
                          for uid, p in series.items())
        raise ValueError(f"{folder} holds {len(series)} series (SeriesInstanceUID): {named}; "
                         "give a folder of one series' slices, the one the RTSTRUCT was drawn "
                         "on (move the others' files away)")
    return slices


def _slice(pydicom, path: Path) -> CtSlice:
    """One .dcm's header as a CtSlice; a file without image geometry is refused."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        cosines = np.asarray([float(v) for v in ds.ImageOrientationPatient], np.float64)
        spacing = [float(v) for v in ds.PixelSpacing]  # [between rows, between columns]
        return CtSlice(path, str(ds.SOPInstanceUID), str(ds.get("SeriesInstanceUID", "")),
                       np.asarray([float(v) for v in ds.ImagePositionPatient], np.float64),
                       cosines[:3], cosines[3:], (spacing[1], spacing[0]),
                       (int(ds.Rows), int(ds.Columns)),
                       str(ds.get("FrameOfReferenceUID", "") or ""))
    except (AttributeError, ValueError, IndexError, pydicom.errors.InvalidDicomError) as err:
        modality = "unreadable" if isinstance(err, pydicom.errors.InvalidDicomError) else \
            f"Modality {ds.get('Modality', 'not set')}"
        raise ValueError(f"{path} is no image slice with a position ({modality}; {err}): the "
                         "CT folder is read as the workflow's images, every .dcm an image; "
                         "move it out of the folder") from None


def check_references(structure: StructureSet, slices: list[CtSlice], rs: Path,
                     ct: Path) -> None:
    """Refuse a CT series in another frame of reference than the RTSTRUCT's (its contours'
    millimetres would be placed in another patient coordinate system: a wrong folder of the
    same geometry gives masks without an error); warn of another series in the same frame."""
    frames = {s.frame for s in slices} - {""}
    if structure.frames and frames and not frames & structure.frames:
        drawn, there = ", ".join(sorted(structure.frames)), ", ".join(sorted(frames))
        raise ValueError(f"{rs} was drawn in frame of reference {drawn} but the CT slices in "
                         f"{ct} are in {there}: give the folder of the CT series the RTSTRUCT "
                         "was drawn on (the same patient and scan)")
    series = {s.series for s in slices} - {""}
    if structure.series and series and not series & structure.series:
        log.warning("%s names series %s, but %s holds series %s (same frame of reference): "
                    "check that it is the scan the contours were drawn on", rs,
                    ", ".join(sorted(structure.series)), ct, ", ".join(sorted(series)))


def slice_of(contour_slices: list[str], points: np.ndarray, slices: list[CtSlice],
             roi: str) -> int:
    """The index of the slice a contour lies on: the one its ReferencedSOPInstanceUID names,
    else the one whose position along the slice normal is within half the slice spacing of
    the contour plane's; none is refused, naming the ROI and the plane's position."""
    by_uid = {s.uid: k for k, s in enumerate(slices)}
    named = [by_uid[u] for u in contour_slices if u in by_uid]
    if named:
        return named[0]
    normal = slices[0].normal()
    where = np.asarray([s.origin @ normal for s in slices])
    steps = np.diff(np.sort(where))
    half = float(np.median(steps)) / 2 if len(steps) else 0.5  # one slice: within 0.5 mm
    plane = float(np.mean(points @ normal))
    k = int(np.argmin(np.abs(where - plane)))
    if abs(where[k] - plane) > half + 1e-6:
        uid = f" and names slice {contour_slices[0]}, not in the folder" if contour_slices else ""
        raise ValueError(f"ROI {roi!r}: a contour at {plane:.2f} mm along the slice normal (z)"
                         f"{uid} lies on none of the CT slices ({where.min():.2f} to "
                         f"{where.max():.2f} mm, {2 * half:.2f} apart): give the CT series the "
                         "RTSTRUCT was drawn on")
    return k


def label_maps(rois: list[Roi], slices: list[CtSlice]) -> tuple[list[np.ndarray], int]:
    """One (rows, columns) class map per slice, ROI k (from 1) drawn as class k, each ROI's
    contours on a slice filled together even-odd (inner contours are holes), a later ROI over
    an earlier one; and the count of pixels drawn over."""
    dtype = np.uint8 if len(rois) < 256 else np.uint16
    maps = [np.zeros(s.size, dtype) for s in slices]
    over = 0
    for cls, roi in enumerate(rois, start=1):
        rings: dict[int, list[np.ndarray]] = {}
        for c in roi.closed():
            if len(c.points) >= 3:
                k = slice_of(c.slices, c.points, slices, roi.name)
                rings.setdefault(k, []).append(slices[k].to_pixels(c.points))
        for k, drawn in rings.items():
            layer = np.zeros(slices[k].size, np.uint8)
            fill_rings(layer, 1, drawn)
            over += int(np.count_nonzero(maps[k][layer > 0]))
            maps[k][layer > 0] = cls
    return maps, over


def write_masks(rois: list[Roi], slices: list[CtSlice], out_dir: Path) -> tuple[list[Path], int]:
    """Write each slice's class map as OUT/<stem>.png and the class table beside them, all or
    none, never over a file there; the paths written and the pixels drawn over."""
    check_folder(out_dir)
    names = [f"{s.path.stem}.png" for s in slices]
    refuse_taken(out_dir, names + [TABLE], "files", "write the masks into")
    maps, over = label_maps(rois, slices)
    # the table moves in last, with the masks: one without the other is never left
    with moved_in_whole(out_dir, names + [TABLE], "rtstruct") as scratch:
        for name, labels in zip(names, maps, strict=True):
            with disk_errors(out_dir / name):
                Image.fromarray(labels).save(scratch / name, format="PNG")
        with disk_errors(out_dir / TABLE), open(scratch / TABLE, "w", newline="") as f:
            table = csv.writer(f)
            table.writerow(["value", "roi_name", "roi_number"])
            table.writerow([0, "background", ""])
            table.writerows([k, r.name, r.number] for k, r in enumerate(rois, start=1))
    return [out_dir / n for n in names], over
