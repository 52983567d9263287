"""No-data left over from predict's first run: the rerun's sidecars, validation scores of
post-processings, the report's overlays and the training labels on a scene's fill."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from tests.test_nodata import _data, _void


def test_a_rerun_writes_a_skipped_scenes_sidecar_as_a_first_run_would(tmp_path, caplog):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files
    from unet.infer.resume import RECORD

    _data(tmp_path)  # masks.ignore 255, in model.pt
    out, files = tmp_path / "new", [tmp_path / "s6.tif"]
    predict_files([tmp_path / "model.pt"], files, out, PredictSettings(device="cpu"))
    first = (out / "s6.png.aux.xml").read_text()
    (out / "s6.png.aux.xml").unlink()  # a mask of a run before sidecars were written
    mask = np.array(Image.open(out / "s6.png"))
    mask[_void()] = 1  # ... which left the scene's fill as a class
    Image.fromarray(mask).save(out / "s6.png")
    with caplog.at_level(logging.WARNING):
        assert predict_files([tmp_path / "model.pt"], files, out,
                             PredictSettings(device="cpu")) == 0  # skipped, not predicted
    assert (out / "s6.png.aux.xml").read_text() == first  # NoDataValue 255 declared
    assert (np.array(Image.open(out / "s6.png"))[_void()] == 255).all()
    assert not [r for r in caplog.records if "masks.ignore" in r.getMessage()]
    lines = (out / RECORD).read_text().splitlines()  # the rewritten mask's size recorded
    assert '"s6.png"' in lines[-1] and len(lines) == 3
