"""DICOM images through the whole path: paired by stem with PNG masks, preprocessed by their
own window (preprocess.intensity_window: dicom), trained, and `unet predict` on the .dcm files
writing PNG masks beside, scaled by the window model.pt records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
from tests.test_dicom import write_dicom  # noqa: E402
from unet.cache.preprocess import preprocess  # noqa: E402
from unet.cache.settings import PreprocessSettings, settings_from_config  # noqa: E402
from unet.cli import main  # noqa: E402
from unet.common.decoders import scaled_8_bits  # noqa: E402
from unet.common.fileio import write_json  # noqa: E402
from unet.common.imageio import open_image  # noqa: E402
from unet.common.pixels import pixels  # noqa: E402
from unet.config.checks import check_intensity_window  # noqa: E402
from unet.dataset.layout import Layout  # noqa: E402
from unet.dataset.pairing import pair_files  # noqa: E402

W, H = 24, 20


def _xrays(root: Path) -> Path:
    """Six 12-bit MONOCHROME1 radiographs (dark lungs stored bright) with PNG masks."""
    (root / "images").mkdir(parents=True), (root / "masks").mkdir()
    for i in range(6):
        img = np.full((H, W), 3000, np.uint16)  # soft tissue, shown at 1095
        img[4:14, 3 + i:11 + i] = 3900  # a lung, shown dark at 195
        mask = np.zeros((H, W), np.uint8)
        mask[4:14, 3 + i:11 + i] = 255
        write_dicom(root / "images" / f"x{i}.dcm", img, photometric="MONOCHROME1",
                    window=(2000, 4000))  # shown as 0..4000 -> mirrored for MONOCHROME1
        Image.fromarray(mask).save(root / "masks" / f"x{i}.png")
    layout = Layout(images="images", masks="masks", image_extensions=(".dcm",))
    pairs = [{"id": i, "image": str(p), "mask": str(m), "size": [W, H]}
             for i, p, m in pair_files(root, layout)]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["x0", "x1", "x2", "x3"], "val": ["x4"],
                                     "test": ["x5"]})
    return root


def test_config_takes_dicom_as_the_window():
    check_intensity_window({"intensity_window": "dicom"})  # not refused as [low, high]
    got = settings_from_config({"mode": "resize", "intensity_window": "dicom"}, {
        "values": None, "threshold": None, "ignore": None})
    assert got.intensity_window == "dicom"


def test_dicom_through_preprocess_train_and_unet_predict(tmp_path):
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    root = _xrays(tmp_path)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity_window="dicom"))
    assert meta["intensity_range"] == [95.0, 4095.0]  # 4095 - (2000 +- 2000)
    test = np.load(root / "cache" / "test_images.npy")[0, ..., 0]
    shown = pixels(open_image(root / "images" / "x5.dcm"))
    assert np.array_equal(test, scaled_8_bits(shown, 95, 4095))
    assert test[0, 0] > test[8, 9]  # tissue brighter than the lung, as a viewer shows them
    train_unet(root / "cache", root / "model.pt", root / "history.csv", root / "ck",
               {"depth": 2, "base_width": 4}, TrainSettings(epochs=1, batch_size=2, device="cpu"))
    out = root / "pred"
    assert main(["predict", str(root / "model.pt"), str(root / "images" / "*.dcm"), "-o",
                 str(out), "--device", "cpu"]) == 0
    written = sorted(p.name for p in out.glob("*.png"))
    assert written == [f"x{i}.png" for i in range(6)]
    assert Image.open(out / "x0.png").size == (W, H)
    assert not list(out.glob("*.dcm"))


def test_a_dicom_window_is_recorded_in_modality_units(tmp_path):
    """model.pt kept intensity_window: dicom as its bare [95, 4095]: `unet info` and the ONNX
    metadata never said those are modality units, RescaleSlope and RescaleIntercept applied
    and MONOCHROME1 inverted, so an ONNX user clipped the stored values and got other masks."""
    from unet.model.checkpoint import load_model_file, model_record, save
    from unet.model.describe import describe_model
    from unet.model.export import _metadata
    from unet.model.unet import UNet, UNetConfig

    root = _xrays(tmp_path)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity_window="dicom"))
    assert meta["intensity_units"] == "dicom"
    config = UNetConfig(in_channels=1, num_classes=2, depth=2, base_width=4)
    save(root / "model.pt", model_record(config.to_dict(), UNet(config).state_dict(), meta, {},
                                         1, None, [0.5, 0.5], "h"))
    info = describe_model(root / "model.pt")
    assert "[95, 4095] in DICOM modality units" in info and "MONOCHROME1" in info, info
    ckpt = load_model_file(root / "model.pt")
    onnx = _metadata(ckpt, [ckpt])  # one model: its own record (folds: one each)
    assert onnx["intensity_units"] == "dicom"
    assert all(w in onnx["input"]["values"] for w in ("RescaleSlope", "MONOCHROME1")), onnx


def test_dcm_passed_over_names_image_extensions(tmp_path, caplog):
    # .dcm files were said to be volumes to export as PNG per slice, with no word that 2-D
    # DICOM images are read once .dcm is among the extensions
    import logging

    from unet.dataset.layout import DataLayoutError

    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    write_dicom(tmp_path / "images" / "a.dcm", np.zeros((H, W), np.uint16))
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / "a.png")
    with pytest.raises(DataLayoutError, match=r"add \.dcm to dataset\.\S*image_extensions.*"
                                              r"pip install -e '\.\[dicom\]'"):
        pair_files(tmp_path, Layout())
    (tmp_path / "masks" / "a.png").unlink()  # a.dcm beside images that pair: a warning
    for name in ("b", "c"):
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "images" / f"{name}.png")
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / f"{name}.png")
    with caplog.at_level(logging.WARNING):
        assert [p[0] for p in pair_files(tmp_path, Layout())] == ["b", "c"]
    (note,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "a.dcm" in note and "add .dcm to" in note and ".[dicom]" in note
