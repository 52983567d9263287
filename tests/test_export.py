"""ONNX export: the metadata a user of the file needs to get `unet predict`'s masks from it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.test_native_predict import _native
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_files
from unet.model.export import export_onnx


def _session(path):
    ort = pytest.importorskip("onnxruntime", reason="pip install -e '.[onnx]'")
    session = ort.InferenceSession(str(path))
    meta = {k: json.loads(v) for k, v in session.get_modelmeta().custom_metadata_map.items()}
    return session, meta


def _recipe_and_predict(tmp_path, model, image):
    """The README's ONNX recipe up to the logits at `image`'s size ((C, H, W): PIL bilinear
    with reducing_gap 2 in, logits bilinearly back), beside unet predict's mask of `image`
    by `model`; and the export's metadata."""
    import torch
    import torch.nn.functional as F

    export_onnx(model, tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    image.save(tmp_path / "new.png")
    predict_files([model], [tmp_path / "new.png"], tmp_path / "out", PredictSettings(device="cpu"))
    x = np.asarray(image.resize(tuple(meta["size"]), Image.Resampling.BILINEAR,
                                reducing_gap=2.0), np.float32) / 255
    (logits,) = session.run(None, {"image": x.transpose(2, 0, 1)[None]})
    back = F.interpolate(torch.from_numpy(logits), size=image.size[::-1], mode="bilinear",
                         align_corners=False)[0]
    return back, np.asarray(Image.open(tmp_path / "out/new.png")), meta


def test_a_patch_trained_models_export_names_its_patch(tmp_path):
    """A patch-trained model predicts by sliding window over tiles of its patch size; the ONNX
    metadata left the patch out, so a user could not know the window (run on whole images at
    multiples of 2^depth, 90x60 differed from unet predict's mask at some pixels)."""
    _native(tmp_path, patch=(32, 16))
    export_onnx(tmp_path / "model.pt", tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    assert meta["patch"] == [32, 16]  # (width, height), as `size`
    # One tile of the patch's size is the whole window: the graph gives unet predict's mask.
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (16, 32, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "tile.png")
    predict_files([tmp_path / "model.pt"], [tmp_path / "tile.png"], tmp_path / "out",
                  PredictSettings(device="cpu"))
    x = (image.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    (logits,) = session.run(None, {"image": x})
    mask = np.asarray(Image.open(tmp_path / "out/tile.png"))
    np.testing.assert_array_equal(np.array(meta["class_values"])[logits[0].argmax(0)], mask)


def test_a_whole_image_models_export_says_it_has_no_patch(tmp_path):
    _native(tmp_path, patch=(32, 32))
    import torch

    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record["train_settings"] = {}
    torch.save(record, tmp_path / "whole.pt")
    export_onnx(tmp_path / "whole.pt", tmp_path / "m.onnx")
    assert _session(tmp_path / "m.onnx")[1]["patch"] is None


def test_the_readmes_recipe_gives_unet_predicts_masks_at_any_image_size(tmp_path):
    """The README said only 'resize to the model's size': resizing the argmax mask back to the
    image changed 1 % of the pixels. Its recipe (PIL bilinear with reducing_gap 2 in, logits
    bilinearly back to the image's size, then the argmax) gives the masks exactly."""
    import torch

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record.update(mode="resize", size=[48, 32], scale=None, train_settings={})
    torch.save(record, tmp_path / "resized.pt")
    rng = np.random.default_rng(4)
    small = rng.integers(0, 255, (10, 14, 3), np.uint8)
    image = Image.fromarray(small).resize((101, 67), Image.Resampling.BILINEAR)
    back, expected, meta = _recipe_and_predict(tmp_path, tmp_path / "resized.pt", image)
    mask = np.array(meta["class_values"])[back.argmax(0).numpy()]
    assert len(np.unique(expected)) == 2
    np.testing.assert_array_equal(mask, expected)


def _folds(tmp_path, k: int = 2):
    """An experiment folder of `k` folds' resized (48x32) models that differ."""
    import torch

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record.update(mode="resize", size=[48, 32], scale=None, train_settings={}, folds=k)
    torch.manual_seed(0)
    for fold in range(k):
        state = {n: t + 0.3 * torch.randn_like(t) if t.is_floating_point() and fold else t
                 for n, t in record["state_dict"].items()}
        (tmp_path / "exp" / "folds" / str(fold)).mkdir(parents=True)
        torch.save({**record, "state_dict": state, "fold": fold},
                   tmp_path / "exp" / "folds" / str(fold) / "model.pt")
    return sorted((tmp_path / "exp").glob("folds/*/model.pt"))


def test_a_cross_validation_runs_folds_export_as_one_ensemble(tmp_path, capsys):
    """`unet export` of a cross-validation experiment was refused ("an ONNX file holds one"):
    the folds' ensemble, which `unet predict` and the pipeline use, could not be taken away.
    One graph now holds them all: softmax of `logits` is their averaged probabilities, and
    `fold_logits`, resized, averaged, give unet predict's masks at any image size."""
    import torch
    import torch.nn.functional as F

    from unet.cli import main

    models = _folds(tmp_path)
    assert main(["export", str(tmp_path / "exp"), "--onnx", str(tmp_path / "e.onnx")]) == 0
    assert "fold_logits" in capsys.readouterr().out
    session, meta = _session(tmp_path / "e.onnx")
    assert meta["folds"] == 2 and [o.name for o in session.get_outputs()] == [
        "logits", "fold_logits"]
    rng = np.random.default_rng(5)
    image = Image.fromarray(rng.integers(0, 255, (67, 101, 3), np.uint8))
    image.save(tmp_path / "new.png")
    predict_files(models, [tmp_path / "new.png"], tmp_path / "out", PredictSettings(device="cpu"))
    x = np.asarray(image.resize((48, 32), Image.Resampling.BILINEAR, reducing_gap=2.0),
                   np.float32) / 255
    logits, each = session.run(None, {"image": x.transpose(2, 0, 1)[None]})
    assert each.shape == (1, 2, 2, 32, 48)
    probs = torch.from_numpy(each).softmax(2).mean(1)
    np.testing.assert_allclose(torch.from_numpy(logits).softmax(1), probs, atol=1e-6)
    back = F.interpolate(torch.from_numpy(each[0]), size=(67, 101), mode="bilinear",
                         align_corners=False).softmax(1).mean(0)
    mask = np.array(meta["class_values"])[back.argmax(0).numpy()]
    expected = np.asarray(Image.open(tmp_path / "out/new.png"))
    assert len(np.unique(expected)) == 2
    np.testing.assert_array_equal(mask, expected)
    for fold in range(2):  # the average is neither fold's own mask
        alone = F.interpolate(torch.from_numpy(each[0, fold:fold + 1]), size=(67, 101),
                              mode="bilinear", align_corners=False)[0].argmax(0).numpy()
        assert (np.array(meta["class_values"])[alone] != expected).any()


def test_unet_export_prints_its_own_lines_not_the_exporters_internals(tmp_path, capsys):
    """`unet export` printed some 25 INFO lines of onnxscript's and onnx_ir's optimiser passes
    ("Removed 178 unused nodes", "Skipping constant folding for node 'node_Shape_1'") on
    stderr around its own line: noise a user cannot act on."""
    from unet.cli import main

    _native(tmp_path)
    assert main(["export", str(tmp_path / "model.pt"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    err = capsys.readouterr().err
    assert "exported" in err  # the command's own log line stays
    assert not [line for line in err.splitlines() if "onnx_ir" in line or "onnxscript" in line]


def test_the_readmes_recipe_holds_where_the_classes_all_but_tie(tmp_path):
    """unet predict's mask is the argmax of the float16 probabilities it would save (the first
    class of equal ones), as the CRF and the final-mask choice read them. The README's recipe
    took the argmax of the float32 logits and said a test found it exact: on a trained 48x32
    model, 16 of 47,249 pixels of seven new images differed, each where the two classes' logits
    were within 5e-4. Near a tie the recipe now rounds the softmax to float16 first."""
    import torch

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    state = record["state_dict"]
    torch.manual_seed(1)  # class 1's head within about 1e-3 of class 0's: many near-ties
    state["head.weight"][1] = state["head.weight"][0] + 1e-3 * torch.randn_like(
        state["head.weight"][0])
    state["head.bias"][1] = state["head.bias"][0]
    record.update(mode="resize", size=[48, 32], scale=None, train_settings={})
    torch.save(record, tmp_path / "tied.pt")
    image = Image.fromarray(np.random.default_rng(6).integers(0, 255, (67, 101, 3), np.uint8))
    back, expected, meta = _recipe_and_predict(tmp_path, tmp_path / "tied.pt", image)
    values = np.array(meta["class_values"])
    assert (values[back.argmax(0).numpy()] != expected).sum() > 10  # float32's argmax: off
    half = back.softmax(0).half().numpy()  # the README's recipe: float16, first of equal
    np.testing.assert_array_equal(values[half.argmax(0)], expected)
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    recipe = readme.split("### The `unet` command", 1)[1].split("\n### ", 1)[0]
    assert "softmax(1).half()" in recipe and "float16" in recipe


def test_a_whole_image_models_graph_gives_unet_predicts_masks_at_odd_sizes(tmp_path):
    """The graph padded its input once to a multiple of 2**depth, where the network (and so
    `unet predict`, which runs it at a native model's image size) pads inside each level: at
    23x17 a depth-2 model's argmax agreed with unet predict's mask at 86 % of the pixels. The
    graph now pads as the network does, at every size: its masks are unet predict's."""
    import torch

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record["train_settings"] = {}  # whole images at their own size: no sliding window
    torch.save(record, tmp_path / "whole.pt")
    export_onnx(tmp_path / "whole.pt", tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    rng = np.random.default_rng(7)
    for w, h in ((23, 17), (50, 30), (33, 47), (48, 32)):
        image = rng.integers(0, 255, (h, w, 3), np.uint8)
        Image.fromarray(image).save(tmp_path / f"{w}.png")
        predict_files([tmp_path / "whole.pt"], [tmp_path / f"{w}.png"], tmp_path / "out",
                      PredictSettings(device="cpu"))
        x = (image.astype(np.float32) / 255).transpose(2, 0, 1)[None]
        (logits,) = session.run(None, {"image": x})
        half = torch.from_numpy(logits[0]).softmax(0).half().numpy()
        expected = np.asarray(Image.open(tmp_path / f"out/{w}.png"))
        assert len(np.unique(expected)) == 2
        np.testing.assert_array_equal(np.array(meta["class_values"])[half.argmax(0)], expected)
    # A side under 2**depth (which the network cannot pool) is padded up to it and cropped back
    from unet.model.checkpoint import load_model
    from unet.model.export import PaddedUNet

    x = rng.random((1, 3, 3, 2), dtype=np.float32)
    with torch.no_grad():
        ref = PaddedUNet(load_model(tmp_path / "whole.pt")[0], 4)(torch.from_numpy(x)).numpy()
    (logits,) = session.run(None, {"image": x})
    assert logits.shape == (1, 2, 3, 2) and np.abs(logits - ref).max() < 1e-5


def test_the_readmes_recipe_reads_a_jpeg_as_unet_predict_does(tmp_path):
    """unet predict opens a JPEG turned by its EXIF orientation and decoded at a DCT scale
    (Image.draft) near the model's size, as the training cache read its images; the README's
    recipe resized the plain decode: a phone photo's mask came out unturned (267x401 for a
    401x267 mask) and 78 of 428,268 pixels of four 401x267 JPEGs differed."""
    import torch
    import torch.nn.functional as F
    from PIL import ImageOps

    _native(tmp_path)
    record = torch.load(tmp_path / "model.pt", weights_only=True)
    record.update(mode="resize", size=[48, 32], scale=None, train_settings={})
    torch.save(record, tmp_path / "resized.pt")
    export_onnx(tmp_path / "resized.pt", tmp_path / "m.onnx")
    session, meta = _session(tmp_path / "m.onnx")
    rng = np.random.default_rng(4)
    for k, turn in enumerate((1, 6, 1)):
        small = Image.fromarray(rng.integers(0, 255, (10, 14, 3), np.uint8))
        exif = Image.Exif()
        exif[0x0112] = turn  # 6: shown turned 90 degrees clockwise
        small.resize((401, 267), Image.Resampling.BILINEAR).save(
            tmp_path / f"{k}.jpg", quality=90, exif=exif)
        predict_files([tmp_path / "resized.pt"], [tmp_path / f"{k}.jpg"], tmp_path / "out",
                      PredictSettings(device="cpu"))
        expected = np.asarray(Image.open(tmp_path / f"out/{k}.png"))
        im, size = Image.open(tmp_path / f"{k}.jpg"), tuple(meta["size"])
        im.draft(None, size[::-1] if turn in (5, 6, 7, 8) else size)  # the recipe, as stored
        im = ImageOps.exif_transpose(im).convert("RGB")
        x = np.asarray(im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0),
                       np.float32) / 255
        (logits,) = session.run(None, {"image": x.transpose(2, 0, 1)[None]})
        back = F.interpolate(torch.from_numpy(logits), size=expected.shape, mode="bilinear",
                             align_corners=False)[0].softmax(0).half().numpy()
        np.testing.assert_array_equal(np.array(meta["class_values"])[back.argmax(0)], expected)
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    recipe = readme.split("### The `unet` command", 1)[1].split("\n### ", 1)[0]
    assert "exif_transpose" in recipe and "draft(None" in recipe
