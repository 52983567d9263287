"""The `unet` command: predict (same masks as predict_folder), info, ONNX export and parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet.cli import main
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_folder
from unet.infer.resume import RECORD  # the record beside the masks
from unet.model import checkpoint


@pytest.fixture
def model(cli_model) -> Path:
    return cli_model


def _new_images(folder: Path) -> Path:
    """Images of mixed sizes and modes, none of them the training size."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, shape, mode in (("rgb", (67, 91, 3), "RGB"), ("grey", (50, 40), "L"),
                              ("rgba", (120, 33, 4), "RGBA")):
        Image.fromarray(rng.integers(0, 255, shape, np.uint8), mode).save(folder / f"{name}.png")
    return folder


def test_predict_writes_what_predict_folder_writes(model, tmp_path):
    folder = _new_images(tmp_path / "new")
    assert main(["predict", str(model), str(folder), "-o", str(tmp_path / "cli"),
                 "--device", "cpu"]) == 0
    predict_folder([model], folder, tmp_path / "pkg", PredictSettings(device="cpu"))
    for png in sorted((tmp_path / "pkg").glob("*.png")):
        assert (tmp_path / "cli" / png.name).read_bytes() == png.read_bytes(), png.name
        assert set(np.unique(np.asarray(Image.open(png))).tolist()) <= {0, 255}


def test_predict_takes_files_and_refuses_what_is_missing(model, tmp_path, capsys):
    folder = _new_images(tmp_path / "new")
    assert main(["predict", str(model), str(folder / "rgb.png"), "-o", str(tmp_path / "o")]) == 0
    assert [p.name for p in (tmp_path / "o").iterdir() if p.name != RECORD] == ["rgb.png"]
    assert main(["predict", str(model), str(tmp_path / "nope.png"), "-o", str(tmp_path)]) == 2
    assert "nope.png: no such image file or folder" in capsys.readouterr().err


def test_info_names_classes_values_and_scores(model, capsys):
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "classes    2: 0 = 0, 1 = 255" in out
    assert "UNet depth 2, base width 4" in out and "resized to 48x32" in out
    assert "validation Dice per class" in out


def test_onnx_export_matches_pytorch(model, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime", reason="pip install -e '.[onnx]'")
    out = tmp_path / "model.onnx"
    assert main(["export", str(model), "--onnx", str(out)]) == 0
    net, ckpt = checkpoint.load_model(model)
    session = ort.InferenceSession(str(out))
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["class_values"] == "[0, 255]" and meta["size"] == "[48, 32]"
    rng = np.random.default_rng(1)
    worst, agree, total = 0.0, 0, 0
    for h, w in ((32, 48), (64, 96), (37, 53), (21, 130)):  # any size, not only multiples of 4
        x = rng.random((2, 3, h, w), dtype=np.float32)
        (logits,) = session.run(None, {"image": x})
        with torch.no_grad():  # odd sizes too: the graph pads inside each level as the net
            ref = net(torch.from_numpy(x)).numpy()
        assert logits.shape == (2, 2, h, w)
        worst = max(worst, float(np.abs(logits - ref).max()))
        agree += int((logits.argmax(1) == ref.argmax(1)).sum())
        total += logits.argmax(1).size
    print(f"ONNX vs PyTorch: max abs logit difference {worst:.2e}, argmax agreement "
          f"{agree / total:.5f}")
    assert agree / total >= 0.999 and worst < 1e-3


def test_listing_skips_hidden_files_and_takes_the_datas_extensions(tmp_path):
    from unet.infer.predict_folder import list_images

    folder = tmp_path / "new"
    folder.mkdir()
    for name in ("a.png", "._a.png", ".hidden.png", "b.ppm", "notes.txt"):
        (folder / name).write_bytes(b"")
    # macOS archives carry ._a.png (AppleDouble metadata, not an image): it stopped the run.
    assert [p.name for p in list_images(folder)] == ["a.png"]
    assert [p.name for p in list_images(folder, (".PPM", ".png"))] == ["a.png", "b.ppm"]
    (folder / "a.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"no images \(.*\) in .*new.*\.ppm: 1, \.txt: 1"):
        list_images(folder)


def test_a_bad_file_stops_the_folder_before_any_work(model, tmp_path):
    # The headers are checked first: a stack or non-image late in a big folder stopped the run
    # after hours of work (and Snakemake then removes the rule's whole output folder).
    folder = _new_images(tmp_path / "new")
    (folder / "zz_notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"zz_notes\.png"):
        predict_folder([model], folder, tmp_path / "out", PredictSettings(device="cpu"))
    assert not list((tmp_path / "out").glob("*.png"))


def test_a_device_that_is_not_one_is_a_usage_error(model, tmp_path, capsys):
    # --device tpu raised a RuntimeError from torch, --device mps (on Linux) was reported as a
    # damaged model file.
    folder = _new_images(tmp_path / "new")
    for bad in ("tpu", "mps", "cuda:x"):
        with pytest.raises(SystemExit) as exit_:
            main(["predict", str(model), str(folder), "-o", str(tmp_path / "o"), "--device", bad])
        assert exit_.value.code == 2
        assert f"--device: {bad!r} is not auto, cpu, cuda or cuda:N" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_a_gpu_is_one_line_naming_the_option(model, tmp_path, capsys):
    folder = _new_images(tmp_path / "new")
    assert main(["predict", str(model), str(folder), "-o", str(tmp_path / "o"),
                 "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unet predict: ") and "--device" in err and "Traceback" not in err


def test_output_that_is_a_file_is_refused_before_any_work(model, tmp_path, capsys):
    folder = _new_images(tmp_path / "new")
    (tmp_path / "taken").write_text("")
    assert main(["predict", str(model), str(folder), "-o", str(tmp_path / "taken")]) == 2
    assert "taken is a file; the masks go into a folder" in capsys.readouterr().err


def test_masks_never_go_into_an_images_folder(model, tmp_path, capsys):
    # `-o` naming the images' own folder replaced each PNG image by its mask: the user's data
    # was lost, and any other images got masks beside them that a rerun took for images.
    folder = _new_images(tmp_path / "new")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    for target in (folder, tmp_path / "link"):
        if target.name == "link":
            target.symlink_to(folder)
        assert main(["predict", str(model), str(folder / "grey.png"), "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert f"{target} holds the images to predict" in err and "-o" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_export_never_writes_over_the_model(model, tmp_path, capsys):
    # `--onnx model.pt` replaced the trained weights by the ONNX graph.
    copy = tmp_path / "model.pt"
    copy.write_bytes(model.read_bytes())
    assert main(["export", str(copy), "--onnx", str(copy)]) == 2
    assert "is the model to export" in capsys.readouterr().err
    assert copy.read_bytes() == model.read_bytes()
    assert main(["export", str(copy), "--onnx", str(tmp_path)]) == 2
    assert "is a folder; name the .onnx file" in capsys.readouterr().err


def test_predict_writes_run_length_encodings_of_its_masks(model, tmp_path):
    import csv

    from unet.dataset.rle import decode

    folder = _new_images(tmp_path / "new")
    out, table = tmp_path / "out", tmp_path / "submission.csv"
    assert main(["predict", str(model), str(folder), "-o", str(out), "--device", "cpu",
                 "--rle", str(table)]) == 0
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["ImageId"] for r in rows) == ["grey.png", "rgb.png", "rgba.png"]
    for r in rows:  # each row decodes to the foreground of the mask written beside it
        mask = np.asarray(Image.open(out / r["ImageId"]))
        got = decode(r["EncodedPixels"], (mask.shape[1], mask.shape[0]), "columns")
        assert np.array_equal(got, mask == 255), r["ImageId"]
    assert main(["predict", str(model), str(folder), "-o", str(out),
                 "--rle", str(folder / "rgb.png")]) == 2  # never over an image


def test_predict_takes_an_experiment_folder_and_averages_its_folds(model, tmp_path, capsys):
    """With split.folds there is no model.pt, only folds/<k>/model.pt, which the rule averages;
    `unet predict` took one model file, and a second one given was read as an image."""
    exp = tmp_path / "exp"
    for k, bias in ((0, 0.0), (1, -100.0), (10, -100.0)):
        ckpt = torch.load(model, weights_only=True)
        ckpt["state_dict"]["head.bias"][1] += bias  # three different models
        (exp / f"folds/{k}").mkdir(parents=True)
        torch.save(ckpt, exp / f"folds/{k}/model.pt")
    folder = _new_images(tmp_path / "new")
    assert main(["predict", str(exp), str(folder), "-o", str(tmp_path / "cli"),
                 "--device", "cpu"]) == 0
    folds = [exp / f"folds/{k}/model.pt" for k in (0, 1, 10)]
    predict_folder(folds, folder, tmp_path / "pkg", PredictSettings(device="cpu"))
    predict_folder(folds[:1], folder, tmp_path / "one", PredictSettings(device="cpu"))
    pngs = sorted((tmp_path / "pkg").glob("*.png"))
    assert len(pngs) == 3 and any(
        png.read_bytes() != (tmp_path / "one" / png.name).read_bytes() for png in pngs)
    for png in pngs:
        assert (tmp_path / "cli" / png.name).read_bytes() == png.read_bytes(), png.name
    assert main(["predict", str(tmp_path / "new"), str(folder), "-o", str(tmp_path / "x")]) == 2
    assert "model.pt" in capsys.readouterr().err


def test_images_one_folder_down_are_pointed_to(model, tmp_path, capsys):
    """Cityscapes' val/berlin/*.png put under the folder to predict: "no images in it", with
    no word of the images one level down."""
    _new_images(tmp_path / "new" / "berlin")
    assert main(["predict", str(model), str(tmp_path / "new"), "-o", str(tmp_path / "o")]) == 2
    assert "berlin/ holds 3" in capsys.readouterr().err


def test_onnx_export_of_a_model_trained_at_an_odd_size(model, tmp_path):
    """preprocess 50x30 with depth 2: the export traced its example at 50x30 and crashed in
    torch.export (inconsistent Dim) with a traceback; any size is allowed for training."""
    ort = pytest.importorskip("onnxruntime", reason="pip install -e '.[onnx]'")
    ckpt = torch.load(model, weights_only=True)
    ckpt["size"] = [50, 30]
    torch.save(ckpt, tmp_path / "odd.pt")
    assert main(["export", str(tmp_path / "odd.pt"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    x = np.random.default_rng(2).random((1, 3, 30, 50), dtype=np.float32)
    (logits,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"image": x})
    net, _ = checkpoint.load_model(tmp_path / "odd.pt")
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()  # as unet predict runs it at 50x30
    assert logits.shape == (1, 2, 30, 50) and np.abs(logits - ref).max() < 1e-4


def test_info_and_export_take_an_experiment_folder(model, tmp_path, capsys):
    """`unet info <experiment folder>` (as unet predict takes) ended in an IsADirectoryError
    traceback; with cross-validation it describes each fold, and export writes their ensemble
    (test_export checks its outputs)."""
    exp = tmp_path / "exp"
    for k in (0, 1):
        (exp / f"folds/{k}").mkdir(parents=True)
        (exp / f"folds/{k}/model.pt").write_bytes(model.read_bytes())
    assert main(["info", str(exp)]) == 0
    out = capsys.readouterr().out
    assert "folds/0/model.pt" in out and "folds/1/model.pt" in out and "classes" in out
    assert main(["export", str(exp), "--onnx", str(tmp_path / "m.onnx")]) == 0
    assert "the 2 folds' averaged probabilities" in capsys.readouterr().out


def test_predict_into_a_folder_of_older_masks_names_those_it_leaves(model, tmp_path, capsys):
    # A second batch predicted into the first batch's -o folder left the first batch's masks
    # beside the new ones without a word ("1 masks written to out"), and the folder then held
    # 3 masks of which 2 were of other images: gathered for a submission, they went with it
    folder = _new_images(tmp_path / "new")
    out = tmp_path / "out"
    assert main(["predict", str(model), str(folder), "-o", str(out), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(folder / "rgb.png"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{out} already holds 2 masks of other images (grey.png, rgba.png)" in err, err
    assert sorted(p.name for p in out.iterdir() if p.name != RECORD) == [
        "grey.png", "rgb.png", "rgba.png"]
    assert main(["predict", str(model), str(folder), "-o", str(out)]) == 0
    assert "already holds" not in capsys.readouterr().err  # each mask replaced: nothing to say
