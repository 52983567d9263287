"""A CT DICOM dataset's common header, written by the tests of DICOM volumes and series."""

from __future__ import annotations


def ct_dataset(photometric: str = "MONOCHROME2"):
    """A pydicom Dataset of a CT image (file meta, SOP UIDs, one grey sample), its pixels and
    geometry left to the caller."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality, ds.SamplesPerPixel, ds.PhotometricInterpretation = "CT", 1, photometric
    return ds
