"""A local data folder is used in place, so changing it must make the data set stale: added,
removed or replaced images and masks rerun the download step (and, through the manifest,
everything after it); files the layout does not pick up change nothing. So does a local
archive (file://) saved over with a newer version."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import TINY, copy_workflow, snakemake

pytestmark = pytest.mark.workflow


def _pair(root: Path, i: int) -> None:
    rng = np.random.default_rng(i)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(root / "images" / f"a{i}.png")
    mask = np.zeros((24, 32), np.uint8)
    mask[4:12 + i % 5, 6:20] = 255
    Image.fromarray(mask).save(root / "masks" / f"a{i}.png")


def _planned(wd: Path) -> set[str]:
    out = snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
                    "local.yaml", "-n", "--quiet", "rules")
    return set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "job"}


def _run(wd: Path) -> None:
    snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
              "local.yaml", "--quiet")


def _local_workflow(tmp_path: Path, pairs: int = 8) -> tuple[Path, Path]:
    """`pairs` pairs in a local folder and a workflow configured to read it: (data, workdir)."""
    data = tmp_path / "data"
    for i in range(pairs):
        _pair(data, i)
    wd = copy_workflow(tmp_path / "wf")
    (wd / "local.yaml").write_text(
        f"dataset: {{name: mine, source: local, local: {{path: '{data}'}}}}\n")
    return data, wd


def _local_run(tmp_path: Path) -> tuple[Path, Path]:
    """Eight pairs in a local folder, the workflow run on them once: (data, workdir)."""
    data, wd = _local_workflow(tmp_path)
    _run(wd)
    return data, wd


def test_changed_local_data_reruns_the_data_set(tmp_path):
    data, wd = _local_run(tmp_path)
    assert _planned(wd) == set()
    (data / "images" / "notes.txt").write_text("not data")  # not an image extension
    assert _planned(wd) == set()
    _pair(data, 8)  # a new pair
    assert _planned(wd) == {"download_dataset", "split_dataset"}
    _run(wd)
    assert _planned(wd) == set()
    redrawn = np.zeros((24, 32), np.uint8)
    redrawn[2:20, 3:9] = 255
    # A mask redrawn (Snakemake compares checksums too: a touch alone reruns nothing).
    Image.fromarray(redrawn).save(data / "masks" / "a3.png")
    assert _planned(wd) == {"download_dataset", "split_dataset"}
    _run(wd)
    (data / "images" / "a5.png").unlink()  # a pair removed
    (data / "masks" / "a5.png").unlink()
    assert _planned(wd) == {"download_dataset", "split_dataset"}


def test_a_local_archive_saved_over_reruns_the_data_set(tmp_path):
    import shutil

    data = tmp_path / "data"
    for i in range(8):
        _pair(data, i)
    shutil.make_archive(str(tmp_path / "set"), "zip", data)
    wd = copy_workflow(tmp_path / "wf")
    archive = (tmp_path / "set.zip").as_uri()
    (wd / "local.yaml").write_text(
        f"dataset: {{name: mine, source: url, url: {{archives: [{{url: '{archive}'}}]}}}}\n")
    _run(wd)
    assert _planned(wd) == set()
    _pair(data, 8)
    shutil.make_archive(str(tmp_path / "set"), "zip", data)  # a newer version, same path
    assert _planned(wd) == {"download_dataset", "split_dataset"}
    _run(wd)
    manifest = (wd / "resources" / "mine" / "manifest.json").read_text()
    assert "a8.png" in manifest


def test_a_file_replaced_by_an_older_dated_one_reruns_the_data_set(tmp_path):
    # rsync -a, cp -p, tar and unzip keep a file's own date: a mask fixed last week and copied
    # in today is older than the manifest, and Snakemake's mtime check passed it by.
    import os

    data, wd = _local_run(tmp_path)
    mask = data / "masks" / "a3.png"
    redrawn = np.zeros((24, 32), np.uint8)
    redrawn[2:20, 3:9] = 255
    Image.fromarray(redrawn).save(mask)
    os.utime(mask, (1e9, 1e9))  # dated 2001
    assert _planned(wd) == {"download_dataset", "split_dataset"}
    _run(wd)
    assert _planned(wd) == set()
    os.utime(data / "images" / "a2.png")  # touched only: its content is the same
    assert _planned(wd) == set()


_COUNTER = '''import atexit, os, sys
sys.path.insert(0, os.getcwd())
import importlib
_module, _name = os.environ["COUNT_CALLS_OF"].rsplit(".", 1)
_module = importlib.import_module(_module)
_calls, _real = [], getattr(_module, _name)
def _counted(*args, **kw):
    _calls.append(1)
    return _real(*args, **kw)
setattr(_module, _name, _counted)
atexit.register(lambda: open(os.environ["CALLS_FILE"], "a").write(f"{len(_calls)}\\n"))
'''


def _counting(tmp_path: Path, monkeypatch, function: str) -> Path:
    """Count `function`'s calls in the Snakemake processes started from here (a
    sitecustomize hook); returns the file each process adds its count to."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_COUNTER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("COUNT_CALLS_OF", function)
    monkeypatch.setenv("CALLS_FILE", str(tmp_path / "calls.txt"))
    return tmp_path / "calls.txt"


def test_a_dag_build_lists_the_data_folder_once(tmp_path, monkeypatch):
    # The folder was listed for download_dataset's inputs and again for its digest param:
    # 0.94 s of each `snakemake -n` on 20,000 pairs (9.2 s in all) went to the second listing.
    _, wd = _local_workflow(tmp_path, pairs=4)
    calls = _counting(tmp_path, monkeypatch, "unet.dataset.layout.data_files")
    assert _planned(wd) == {"download_dataset", "split_dataset"}
    assert calls.read_text().split() == ["1"]


def test_a_dag_build_lists_a_folder_to_predict_once(tmp_path, monkeypatch):
    # The same for predict_folder: its images input and its digest param each listed it.
    wd = copy_workflow(tmp_path / "wf")
    new = wd / "resources" / "predict" / "new"
    for i in range(3):
        _pair(tmp_path / "data", i)
        (new / f"a{i}.png").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "images" / f"a{i}.png").rename(new / f"a{i}.png")
    calls = _counting(tmp_path, monkeypatch, "unet.dataset.per_id.new_images")
    out = snakemake(wd, "results/synthetic/baseline/predict/new", "--cores", "1",
                    "--configfile", TINY, "-n", "--quiet", "rules")
    assert "predict_folder" in out.stdout
    assert calls.read_text().split() == ["1"]


def test_a_mask_missing_for_a_while_stops_before_the_manifest_is_lost(tmp_path):
    # Snakemake deletes a job's output before the job runs: download_dataset failing on an
    # image without its mask lost the manifest, and putting the mask back then reran the
    # split, the cache and training on the same data. The pairs are checked at the DAG build.
    data, wd = _local_run(tmp_path)
    manifest = wd / "resources" / "mine" / "manifest.json"
    (data / "masks" / "a2.png").rename(tmp_path / "a2.png")
    out = snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
                    "local.yaml", check=False)
    assert out.returncode != 0
    assert "a2.png" in out.stdout + out.stderr and "allow_unpaired" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert manifest.is_file()
    (tmp_path / "a2.png").rename(data / "masks" / "a2.png")
    assert _planned(wd) == set()


def test_a_folder_of_masks_per_image_lists_the_images_below_too(tmp_path):
    # The DSB layout (images: stage1_train, recursive, masks: stage1_train/{id}/masks): the
    # files that make a local data set stale listed the nuclei's masks but no image, as the
    # per-image mask folders turned recursion off for the images folder too; an edited image
    # reran nothing.
    from tests.test_mask_parts import _dsb
    from unet.dataset.layout import Layout, data_files

    _dsb(tmp_path / "stage1_train")
    layout = Layout(images="stage1_train", masks="stage1_train/{id}/masks", recursive=True)
    listed = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, layout)}
    assert {f"stage1_train/{i}/images/{i}.png" for i in ("a1b2", "c3d4", "e5f6")} <= listed
    assert "stage1_train/e5f6/masks/0003e5f6.png" in listed


def test_unreadable_images_added_stop_before_the_manifest_is_lost(tmp_path):
    # Two images saved over with something that is not an image: download_dataset named the
    # first only after Snakemake had deleted the manifest of the last good run. Both are
    # named at the DAG build, and nothing is lost.
    data, wd = _local_run(tmp_path)
    manifest = wd / "resources" / "mine" / "manifest.json"
    for i in (2, 5):
        (data / "images" / f"a{i}.png").rename(tmp_path / f"a{i}.png")
        (data / "images" / f"a{i}.png").write_bytes(b"<html>404</html>")
    out = snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
                    "local.yaml", check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "2 images cannot be read" in text and "a2.png" in text and "a5.png" in text
    assert "Traceback" not in text and manifest.is_file()
    for i in (2, 5):
        (tmp_path / f"a{i}.png").replace(data / "images" / f"a{i}.png")
    assert _planned(wd) == set()
