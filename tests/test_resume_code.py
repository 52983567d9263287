"""A last.pt is resumed only by the training code that wrote it (docstrings and comments aside)."""

from __future__ import annotations

import logging
import shutil

from tests.conftest import REPO
from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.train import resume


def _copy(tmp_path):
    shutil.copytree(REPO / "unet", tmp_path / "unet", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "unet" / "train" / "loop.py"


def test_digest_ignores_docstrings_and_comments(tmp_path):
    loop = _copy(tmp_path)
    before = resume.code_digest(tmp_path)
    text = loop.read_text()
    edited = text.replace("One optimiser step; returns the batch's loss on the device, unread "
                          "(.item() waits).", "Another wording.")
    loop.write_text(edited.replace("    s = run.settings\n", "    s = run.settings  # a comment\n"))
    assert loop.read_text() != text
    assert resume.code_digest(tmp_path) == before


def test_digest_follows_code_the_training_imports(tmp_path):
    loop = _copy(tmp_path)
    before = resume.code_digest(tmp_path)
    text = loop.read_text()
    loop.write_text(text.replace("return loss.detach()", "return 2 * loss.detach()"))
    assert loop.read_text() != text  # the edit took
    assert resume.code_digest(tmp_path) != before
    # A module training does not import (the CRF) leaves it alone.
    loop.write_text(text)
    crf = tmp_path / "unet" / "crf" / "dense.py"
    crf.write_text(crf.read_text() + "\nCHANGED = 1\n")
    assert resume.code_digest(tmp_path) == before


def test_changed_training_code_starts_again(cache, tmp_path, caplog, monkeypatch):  # noqa: F811
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path)
    real = resume.code_digest()
    monkeypatch.setattr(resume, "code_digest", lambda: real + "-edited")
    _train(cache, tmp_path, epochs=3)
    assert "written for other settings, data or training code" in caplog.text
    assert "resuming" not in caplog.text
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]


def test_changed_data_of_the_same_names_and_sizes_starts_again(tmp_path, caplog):
    # A redrawn mask (or a preprocessing change) gives a cache whose meta.json listed the same
    # ids and sizes: the finished last.pt was "resumed", no epoch ran, and model.pt stayed the
    # model of the old data.
    import numpy as np
    from PIL import Image

    from tests.conftest import write_inputs, write_pair
    from unet.cache.preprocess import preprocess
    from unet.cache.settings import PreprocessSettings

    pairs = [write_pair(tmp_path, i) for i in range(6)]
    write_inputs(tmp_path, pairs)
    settings = PreprocessSettings(width=16, height=12)
    cache_dir, out = tmp_path / "cache", tmp_path / "run"
    first = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", cache_dir, settings)
    _train(cache_dir, out)
    mask = np.asarray(Image.open(pairs[0]["mask"]))
    Image.fromarray(255 - mask).save(pairs[0]["mask"])  # the same file, redrawn
    second = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", cache_dir, settings)
    assert first["content"] != second["content"]
    caplog.set_level(logging.INFO)
    _train(cache_dir, out, epochs=3)
    assert "resuming" not in caplog.text
    rows = (out / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]
