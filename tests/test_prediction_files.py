"""Work per predicted image: files created and synced, counted (not timed)."""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image

import unet.common.fileio as fileio
import unet.infer.writer as writer_module
from unet.common.labels import MaskMapping
from unet.infer.writer import PredictionWriter


def _counting(monkeypatch) -> dict[str, int]:
    """Count temporary files made (each becomes an output or is thrown away) and msyncs."""
    counts = {"files": 0, "syncs": 0}
    made, flush = fileio.temp_beside, np.memmap.flush

    def temp_beside(path):
        counts["files"] += 1
        return made(path)

    def synced(self):
        counts["syncs"] += 1
        return flush(self)

    monkeypatch.setattr(fileio, "temp_beside", temp_beside)
    monkeypatch.setattr(writer_module, "temp_beside", temp_beside)
    monkeypatch.setattr(np.memmap, "flush", synced)
    return counts


def test_small_predictions_make_one_file_per_output_and_sync_none(tmp_path, monkeypatch):
    # 20,000 32x32 tiles: each image made 3 files (probabilities, a mapped scratch copy of
    # the mask's values, the PNG) and msynced its probabilities' map: 35 ms an image on this
    # machine's disk for a few microseconds of model. Two outputs: two files, no msync.
    counts = _counting(monkeypatch)
    mapping, n = MaskMapping(values=(0, 255)), 20
    torch.manual_seed(0)
    bands = [torch.softmax(torch.randn(2, 32, 32), 0) for _ in range(n)]
    for k, band in enumerate(bands):
        out = tmp_path / "masks" / f"{k}.png", tmp_path / "probs" / f"{k}.npy"
        with PredictionWriter(*out, mapping, (32, 32), (32, 32)) as writer:
            writer.add(0, band[:, :16])
            writer.add(16, band[:, 16:])
    assert counts == {"files": 2 * n, "syncs": 0}
    for k, band in enumerate(bands):
        probs = np.load(tmp_path / "probs" / f"{k}.npy")
        np.testing.assert_array_equal(probs, band.half().numpy())
        mask = np.asarray(Image.open(tmp_path / "masks" / f"{k}.png"))
        np.testing.assert_array_equal(mask, probs.astype(np.float32).argmax(0) * 255)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]


def test_small_scaled_predictions_hold_no_scratch_file(tmp_path, monkeypatch):
    # From a 16x16 cache to a 40x24 original: the cached-size bands were a mapped scratch file.
    counts = _counting(monkeypatch)
    out = tmp_path / "masks" / "a.png", tmp_path / "probs" / "a.npy"
    band = torch.softmax(torch.randn(2, 16, 16), 0)
    with PredictionWriter(*out, MaskMapping(values=(0, 255)), (16, 16), (24, 40)) as writer:
        writer.add(0, band)
    assert counts == {"files": 2, "syncs": 0}
    assert np.load(out[1]).shape == (2, 24, 40)
    assert Image.open(out[0]).size == (40, 24)


def test_a_small_predictions_reserved_room_is_written_over_not_truncated(tmp_path, monkeypatch):
    # Its probabilities' scratch file is given its room first (a full disk named now); it was
    # then reopened with "wb", which on ext4 freed those blocks to allocate them again: 3-4 ms
    # an image, most of predict_masks' time on 64x64 images.
    truncated, real_open = [], open

    def spy(path, mode="r", *args, **kwargs):
        if "w" in mode and os.path.isfile(path) and os.path.getsize(path):
            truncated.append(str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(writer_module, "open", spy, raising=False)
    out = tmp_path / "masks" / "a.png", tmp_path / "probs" / "a.npy"
    band = torch.softmax(torch.randn(3, 20, 30), 0)
    with PredictionWriter(*out, MaskMapping(values=(0, 1, 2)), (20, 30), (20, 30)) as writer:
        writer.add(0, band)
    assert truncated == []
    np.testing.assert_array_equal(np.load(out[1]), band.half().numpy())
    header = 128  # what np.save writes for this shape: the file holds nothing after the array
    assert out[1].stat().st_size == header + band.half().numpy().nbytes
