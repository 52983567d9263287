"""2-D DICOM images (chest X-rays, CT slices): read through pydicom with the modality's rescale,
MONOCHROME1 inverted as viewers show it, 16-bit values kept, the file's own window offered as
preprocess.intensity_window: dicom, multi-frame files refused; masks stay PNG."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

pydicom = pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid  # noqa: E402

from unet.cache.intensity import training_range  # noqa: E402
from unet.cache.settings import PreprocessSettings  # noqa: E402
from unet.common.imageio import ImageReadError, image_header, open_image, read_image  # noqa: E402
from unet.common.pixels import pixels  # noqa: E402
from unet.dataset.layout import Layout  # noqa: E402
from unet.dataset.pairing import pair_files  # noqa: E402


def write_dicom(path, stored: np.ndarray, slope=1.0, intercept=0.0, photometric="MONOCHROME2",
                window=None, signed=False, spacing=(0.14, 0.14)) -> None:
    """A tiny DICOM file of `stored` ((H, W), or (frames, H, W)) as a scanner would write it."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = stored.shape[-2:]
    if stored.ndim == 3:
        ds.NumberOfFrames = stored.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = int(signed)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.PixelSpacing = list(spacing)
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = stored.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def ramp(h=12, w=16) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) * 20).astype(np.uint16)  # 0..3820: 12 bits


def test_rescale_applied_and_16_bits_kept(tmp_path):
    write_dicom(tmp_path / "ct.dcm", ramp(), slope=1, intercept=-1024)
    im = open_image(tmp_path / "ct.dcm")
    got = pixels(im)
    assert im.size == (16, 12)
    np.testing.assert_array_equal(got, ramp().astype(np.int32) - 1024)  # Hounsfield units
    assert image_header(tmp_path / "ct.dcm") == (im.mode, (16, 12))


def test_fractional_slope(tmp_path):
    write_dicom(tmp_path / "pet.dcm", ramp(), slope=0.5, intercept=1)
    np.testing.assert_allclose(pixels(open_image(tmp_path / "pet.dcm")), ramp() * 0.5 + 1)


def test_monochrome1_inverted(tmp_path):
    """An X-ray stored MONOCHROME1 (high values dark): read as shown, bone bright."""
    write_dicom(tmp_path / "cr.dcm", ramp(), photometric="MONOCHROME1")
    got = pixels(open_image(tmp_path / "cr.dcm"))
    np.testing.assert_array_equal(got, 4095 - ramp().astype(np.int64))  # 12 bits stored


def test_multi_frame_refused(tmp_path):
    write_dicom(tmp_path / "cine.dcm", np.stack([ramp(), ramp()]))
    with pytest.raises(ImageReadError, match=r"cine\.dcm.*2 frames.*one .*per frame"):
        open_image(tmp_path / "cine.dcm")
    with pytest.raises(ImageReadError, match=r"cine\.dcm.*2 frames"):
        image_header(tmp_path / "cine.dcm")


def test_missing_pydicom_names_the_extra(tmp_path, monkeypatch):
    write_dicom(tmp_path / "a.dcm", ramp())
    monkeypatch.setitem(sys.modules, "pydicom", None)  # import pydicom raises ImportError
    with pytest.raises(ImageReadError, match=r"a\.dcm.*pip install -e '\.\[dicom\]'"):
        open_image(tmp_path / "a.dcm")


def test_file_window_offered(tmp_path):
    """preprocess.intensity_window: dicom takes the training files' own WindowCenter/Width."""
    for name in ("a", "b"):
        write_dicom(tmp_path / f"{name}.dcm", ramp(), intercept=-1024, window=(50, 500))
    files = [str(tmp_path / "a.dcm"), str(tmp_path / "b.dcm")]
    got = training_range(files, False, PreprocessSettings(intensity_window="dicom"), 1)
    assert got == [-200.0, 300.0]
    img = read_image(files[0], span=tuple(got))
    assert img.dtype == np.uint8 and img[0, 0, 0] == 0 and img[-1, -1, 0] == 255


def test_file_windows_that_differ_refused(tmp_path):
    write_dicom(tmp_path / "a.dcm", ramp(), window=(50, 500))
    write_dicom(tmp_path / "b.dcm", ramp(), window=(-600, 1500))
    files = [str(tmp_path / "a.dcm"), str(tmp_path / "b.dcm")]
    with pytest.raises(ValueError, match=r"intensity_window.*\[-200, 300\]: \S*a\.dcm; "
                       r"\[-1350, 150\]: \S*b\.dcm.*\[low, high\]"):
        training_range(files, False, PreprocessSettings(intensity_window="dicom"), 1)


def test_pairs_with_png_masks_by_stem(tmp_path):
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    for i in range(2):
        write_dicom(tmp_path / "images" / f"p{i}.dcm", ramp())
        Image.fromarray(np.zeros((12, 16), np.uint8)).save(tmp_path / "masks" / f"p{i}.png")
    layout = Layout(images="images", masks="masks", image_extensions=(".png", ".dcm"),
                    mask_extensions=(".png",))
    pairs = pair_files(tmp_path, layout)
    assert [(i, p.name) for i, p, _ in pairs] == [("p0", "p0.dcm"), ("p1", "p1.dcm")]


def test_jpeg_baseline_like_siim(tmp_path):
    """SIIM-ACR's and RSNA's radiographs are 8-bit JPEG Baseline DICOMs: decoded through
    Pillow (pydicom's own plugin), no extra codec package."""
    import io

    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, "JPEG", quality=100)
    write_dicom(tmp_path / "x.dcm", grey)
    ds = pydicom.dcmread(tmp_path / "x.dcm")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    del ds.RescaleSlope, ds.RescaleIntercept  # none in a radiograph
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "x.dcm", enforce_file_format=True)
    im = open_image(tmp_path / "x.dcm")
    assert im.mode == "L" and image_header(tmp_path / "x.dcm") == ("L", (16, 16))
    assert np.abs(pixels(im).astype(int) - grey).max() <= 2  # JPEG at quality 100


def test_32_bit_unsigned_kept(tmp_path):
    # a 32-bit range (a dose map, a photon-counting export) wrapped negative as int32
    stored = np.array([[0, 3_000_000_000], [5, 4_000_000_000]], np.uint32)
    write_dicom(tmp_path / "d.dcm", stored)
    ds = pydicom.dcmread(tmp_path / "d.dcm")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
    ds.PixelData = stored.tobytes()
    ds.save_as(tmp_path / "d.dcm", enforce_file_format=True)
    im = open_image(tmp_path / "d.dcm")
    np.testing.assert_allclose(pixels(im), stored.astype(np.float64), rtol=1e-6)
    assert image_header(tmp_path / "d.dcm")[0] == im.mode


def test_a_window_of_no_width_is_no_window(tmp_path):
    write_dicom(tmp_path / "a.dcm", ramp(), window=(50, 0))  # scaled by width: a division by 0
    with pytest.raises(ValueError, match=r"intensity_window.*none: \S*a\.dcm"):
        training_range([str(tmp_path / "a.dcm")], False,
                       PreprocessSettings(intensity_window="dicom"), 1)
