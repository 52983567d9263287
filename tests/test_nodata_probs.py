"""Probabilities on a scene's no-data pixels: NaN where its masks hold masks.ignore, so a user
thresholding `pred/probs` gets no class in the fill, and every step that reads them still runs."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.test_nodata import _data, _void


def test_probs_are_nan_where_the_masks_mark_no_data_and_the_crf_still_runs(tmp_path):
    from unet.common.probs import read_probs
    from unet.crf.dense import CRFParams
    from unet.crf.refine import refine_crf
    from unet.infer.predict import PredictSettings, predict_masks

    _data(tmp_path)  # masks.ignore 255
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  PredictSettings(device="cpu"), manifest=tmp_path / "manifest.json")
    probs = np.asarray(read_probs(tmp_path / "pred/probs/s6.npy"), np.float32)
    assert np.isnan(probs[:, _void()]).all()  # before: the model's class-0 answer to input 0
    assert np.isfinite(probs[:, ~_void()]).all()
    assert np.allclose(probs[:, ~_void()].sum(0), 1, atol=1e-2)
    refine_crf(tmp_path / "manifest.json", tmp_path / "cache/meta.json", tmp_path / "pred",
               tmp_path / "crf", CRFParams())
    crf = np.array(Image.open(tmp_path / "crf/masks/s6.png"))
    assert (crf[_void()] == 255).all() and set(np.unique(crf[~_void()])) <= {0, 1}


def test_without_an_ignore_value_the_probs_keep_the_models_numbers(tmp_path):
    from unet.common.probs import read_probs
    from unet.infer.predict import PredictSettings, predict_masks

    _data(tmp_path, ignore=None)  # the masks keep their classes there: so do the probs
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  PredictSettings(device="cpu"), manifest=tmp_path / "manifest.json")
    assert np.isfinite(np.asarray(read_probs(tmp_path / "pred/probs/s6.npy"))).all()


def test_a_rerun_marks_a_mask_written_before_no_data_was_marked_once(tmp_path, monkeypatch):
    import json

    import unet.common.nodata as nodata
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files
    from unet.infer.resume import RECORD

    _data(tmp_path)  # masks.ignore 255
    out, files = tmp_path / "new", [tmp_path / "s6.tif"]
    predict_files([tmp_path / "model.pt"], files, out, PredictSettings(device="cpu"))
    side = out / "s6.png.aux.xml"  # as a run between sidecars and marking left it:
    side.write_text(side.read_text().split("  <PAMRasterBand")[0] + "</PAMDataset>\n")
    mask = np.array(Image.open(out / "s6.png"))
    mask[_void()] = 1  # ... the fill a class, its record line without the no-data check
    Image.fromarray(mask).save(out / "s6.png")
    lines = [json.loads(line) for line in (out / RECORD).read_text().splitlines()]
    lines[-1].pop("nodata", None)
    (out / RECORD).write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = lambda: predict_files([tmp_path / "model.pt"], files, out,  # noqa: E731
                                PredictSettings(device="cpu"))
    assert run() == 0  # skipped, not predicted
    assert (np.array(Image.open(out / "s6.png"))[_void()] == 255).all()  # before: class 1
    assert "<NoDataValue>255</NoDataValue>" in side.read_text()
    monkeypatch.setattr(nodata, "bands_and_alpha", lambda *_: 1 / 0)  # checked once: no decode
    assert run() == 0
