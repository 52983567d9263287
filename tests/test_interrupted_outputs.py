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


KILLED_UNSTACK = """
import os, sys
from PIL import Image
from unet.dataset.unstack import unstack

save, saved = Image.Image.save, []
def dies(self, *args, **kwargs):  # as kill -9 mid-stack: no cleanup runs
    save(self, *args, **kwargs)
    saved.append(1)
    if len(saved) == 2:
        os._exit(137)
Image.Image.save = dies
unstack(sys.argv[1], sys.argv[2])
"""


def _stack(path, pages=4):
    from PIL import Image

    frames = [Image.new("L", (40, 30), 10 * k) for k in range(pages)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def test_unet_unstack_removes_the_scratch_a_killed_run_left(tmp_path):
    # kill -9 mid-stack left `.unstack-<random>/` holding the pages written so far (32 MB for
    # 20 pages of 1500x1500) inside the output folder, and the next unstack, which completed,
    # kept it for good.
    import subprocess
    import sys

    from tests.conftest import REPO
    from unet.dataset.unstack import unstack

    stack, out = _stack(tmp_path / "s.tif"), tmp_path / "pages"
    proc = subprocess.run([sys.executable, "-c", KILLED_UNSTACK, str(stack), str(out)], cwd=REPO)
    assert proc.returncode == 137
    assert [p for p in out.iterdir() if p.is_dir()]  # what the kill left
    unstack(stack, out)
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png", "3.png"]


def test_a_full_disk_unstacking_names_the_folder_and_leaves_nothing(tmp_path, monkeypatch):
    from PIL import Image

    from unet.dataset.unstack import unstack

    stack, out = _stack(tmp_path / "s.tif"), tmp_path / "pages"
    save = Image.Image.save

    def full(self, fp, *args, **kwargs):
        if str(fp).endswith("2.png"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(DiskFullError, match=r"pages/2\.png: its disk is full"):
        unstack(stack, out)
    assert not list(out.iterdir())


def test_unet_export_removes_the_scratch_a_killed_run_left(tmp_path):
    # kill -9 mid-export left `.m.onnx.<hex>.part` (empty while the graph is traced, the
    # whole model's size while it is saved) beside the .onnx, and no later export removed it.
    pytest.importorskip("onnxscript")
    from unet.model.export import export_onnx

    stale = tmp_path / ".m.onnx.0123abcd.part"
    stale.write_bytes(b"\0" * 1000)
    export_onnx([_model(tmp_path / "m.pt")], tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.pt"]


def test_a_leftover_hidden_file_among_new_images_reruns_nothing(tiny_run):
    # The folder itself was an input: any file made in it moved its mtime, so the scratch an
    # interrupted copy left (`.c.png.tmp`, rsync's `.c.png.Xy12ab`), a .DS_Store or a note
    # reran predict_folder on the same images ("Updated input files: resources/predict/...").
    import numpy as np
    from PIL import Image

    from tests.conftest import TINY, snakemake

    folder = tiny_run / "resources/predict/copied"
    folder.mkdir(parents=True)
    for name in ("a", "b"):
        Image.fromarray(np.full((30, 40), 9, np.uint8)).save(folder / f"{name}.png")
    target = "results/synthetic/baseline/predict/copied"
    snakemake(tiny_run, target, "--cores", "1", "--configfile", TINY)
    os.utime(folder, (1e10, 1e10))  # as making a file there does, later than the masks
    for name in (".c.png.tmp", ".DS_Store", "notes.txt"):
        (folder / name).write_bytes(b"partial")
        os.utime(folder / name, (1e10, 1e10))
    planned = snakemake(tiny_run, target, "--cores", "1", "--configfile", TINY, "-n")
    assert "Nothing to be done" in planned.stdout + planned.stderr, planned.stdout[-2000:]
    assert sorted(p.name for p in (tiny_run / target).glob("*.png")) == ["a.png", "b.png"]
    Image.fromarray(np.full((30, 40), 9, np.uint8)).save(folder / "c.png")  # an image: reruns
    planned = snakemake(tiny_run, target, "--cores", "1", "--configfile", TINY, "-n")
    assert "predict_folder" in planned.stdout + planned.stderr
    snakemake(tiny_run, target, "--cores", "1", "--configfile", TINY)
    (folder / "b.png").unlink()  # an image removed: reruns, its mask gone
    snakemake(tiny_run, target, "--cores", "1", "--configfile", TINY)
    assert sorted(p.name for p in (tiny_run / target).glob("*.png")) == ["a.png", "c.png"]


def test_a_full_disk_under_a_large_prediction_names_the_mask_not_its_scratch(tmp_path,
                                                                            monkeypatch):
    # A 3000x3000 image on a 6 MB tmpfs: "cannot write 9.0 MB of out/.im0.png.78f5f63c.part",
    # a hidden file that is gone when the user looks, in place of the mask.
    import numpy as np

    from unet.common.labels import MaskMapping
    from unet.infer.writer import PredictionWriter

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    writer = PredictionWriter(tmp_path / "m.png", tmp_path / "p.npy", MaskMapping(values=(0, 255)),
                              cached=(600, 500), original=(600, 500))
    with pytest.raises(DiskFullError) as err, writer:
        pass
    assert f"of {tmp_path / 'p.npy'}: its disk is full" in str(err.value)
    assert ".part" not in str(err.value)
    assert not list(tmp_path.iterdir())
    assert np  # the arrays are mapped (over IN_MEMORY): their scratch is reserved
