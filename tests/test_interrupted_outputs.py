"""What a killed or failed write leaves in the folders that Snakemake does not clean: `unet
predict -o`, `unet export --onnx`, `unet unstack`, and the final masks' copies."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from tests.test_postprocess import _case, _finalize
from tests.test_predict_batches import _images, _model
from unet.common.fileio import DiskFullError
from unet.infer.forward import PredictSettings
from unet.infer.predict_folder import predict_files


def test_unet_predict_removes_the_scratch_a_killed_run_left(tmp_path):
    # kill -9 of `unet predict` mid-image left `.im1.png.<hex>.part` (9 MB for one 3000x3000
    # image: the mask's values mapped) in the masks' folder, and no later run removed it:
    # Snakemake cleans its own outputs, not a folder named with -o.
    files = _images(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".im1.png.0123abcd.part", out / ".im4.png.deadbeef.part"]
    for path in stale:
        path.write_bytes(b"\0" * 1000)
    kept = [out / ".notes.txt", out / ".im1.png.part", out / "other.png.0123abcd.part"]
    for path in kept:  # not the scratch of an output of this run: the user's own files
        path.write_bytes(b"x")
    predict_files([_model(tmp_path / "m.pt")], files, out, PredictSettings(device="cpu"))
    assert not [p for p in stale if p.exists()]
    assert all(p.exists() for p in kept)
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{f.stem}.png" for f in files)


def test_a_full_disk_copying_a_final_mask_names_it_and_leaves_no_part(tmp_path, monkeypatch):
    # shutil.copyfile's ENOSPC said "[Errno 28] No space left on device" (no file), and the
    # half-copied `.t0.png.part` stayed in final/masks.
    _case(tmp_path, crf_dice=0.99, spurious=False)

    def full(src, dst, **_):
        with open(dst, "wb") as f:
            f.write(b"\x89PNG")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfile", full)
    with pytest.raises(DiskFullError, match=r"final/masks/t\d\.png: its disk is full"):
        _finalize(tmp_path, ("crf",))
    assert not list((tmp_path / "final/masks").iterdir())
