"""A tiny CT series and an RTSTRUCT drawn on it, written with pydicom by the rtstruct tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.dicom_files import ct_dataset

ROWS, COLS = 24, 32
Z = (0.0, 2.5, 5.0, 7.5)  # mm: 4 slices 2.5 apart
SPACING = [2.0, 1.0]  # PixelSpacing: rows 2 mm apart, columns 1 mm apart


def ct_series(folder: Path, row=(1, 0, 0), col=(0, 1, 0), origin=(-10.0, -20.0),
              series: str | None = None, prefix: str = "CT", frame: str | None = None,
              ) -> list[str]:
    """Write the 4 slices as <prefix>0.dcm ... (in frame of reference `frame` where given);
    their SOPInstanceUIDs, slice order."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = series or generate_uid()
    uids = []
    for k, z in enumerate(Z):
        ds = ct_dataset()
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, "1.2.3"
        ds.Rows, ds.Columns, ds.PixelSpacing = ROWS, COLS, SPACING
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.ImagePositionPatient = [origin[0], origin[1], z]
        ds.ImageOrientationPatient = [*row, *col]
        if frame is not None:
            ds.FrameOfReferenceUID = frame
        ds.PixelData = np.zeros((ROWS, COLS), "<u2").tobytes()
        ds.save_as(folder / f"{prefix}{k}.dcm", enforce_file_format=True)
        uids.append(str(ds.SOPInstanceUID))
    return uids


def mm(xs, ys, z: float, row=(1, 0, 0), col=(0, 1, 0), origin=(-10.0, -20.0)) -> np.ndarray:
    """(n, 3) patient mm of pixel positions (column index xs, row index ys; 0 the first
    pixel's centre) on the slice at z, the inverse of the slice's geometry."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    o = np.array([origin[0], origin[1], z])
    return o + np.outer(xs * SPACING[1], row) + np.outer(ys * SPACING[0], col)


def box(x0, x1, y0, y1, z, **geometry) -> np.ndarray:
    """The rectangle of pixel positions x0..x1, y0..y1 on the slice at z, in mm."""
    return mm([x0, x1, x1, x0], [y0, y0, y1, y1], z, **geometry)


def rtstruct(path: Path, rois: list[tuple[int, str, list]], modality: str = "RTSTRUCT",
             frame: str | None = None, series: str | None = None) -> Path:
    """Write an RTSTRUCT of `rois`: (ROINumber, ROIName, contours), a contour (points (n, 3),
    the slice's SOPInstanceUID or None, its ContourGeometricType); where `frame` is given, it
    references that frame of reference (and `series` in it)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta, ds.Modality = meta, modality
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.StructureSetROISequence, ds.ROIContourSequence = Sequence(), Sequence()
    for number, name, contours in rois:
        roi = Dataset()
        roi.ROINumber, roi.ROIName = number, name
        ds.StructureSetROISequence.append(roi)
        item = Dataset()
        item.ReferencedROINumber, item.ContourSequence = number, Sequence()
        for points, uid, kind in contours:
            c = Dataset()
            c.ContourGeometricType, c.NumberOfContourPoints = kind, len(points)
            c.ContourData = [round(float(v), 4) for v in np.asarray(points).ravel()]
            if uid is not None:
                ref = Dataset()
                ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = \
                    "1.2.840.10008.5.1.4.1.1.2", uid
                c.ContourImageSequence = Sequence([ref])
            item.ContourSequence.append(c)
        ds.ROIContourSequence.append(item)
    if frame is not None:
        ds.ReferencedFrameOfReferenceSequence = Sequence([_frame(frame, series)])
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _frame(frame: str, series: str | None):
    """A ReferencedFrameOfReferenceSequence item: the frame, and the series drawn on in it."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.FrameOfReferenceUID = frame
    if series is not None:
        one, study = Dataset(), Dataset()
        one.SeriesInstanceUID = series
        study.RTReferencedSeriesSequence = Sequence([one])
        item.RTReferencedStudySequence = Sequence([study])
    return item
