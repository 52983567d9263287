"""How a failed step reads: the project's own errors for bad input (a DataLayoutError, a
MaskValueError, ...) show their message alone on screen, with one line saying where the
traceback is; the rule's log keeps the traceback, and ends with the message, so Snakemake's
show-failed-logs block ends with it too. A bug (any other exception) keeps its traceback on
screen and in the log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, TINY, copy_workflow, snakemake

STEP = """
import sys
from unet.common.logs import setup_logging
setup_logging(sys.argv[1] if len(sys.argv) > 1 else None)
def deep():
    {raise_}
deep()
"""
INPUT = ("from unet.dataset.layout import DataLayoutError; "
         "raise DataLayoutError('images with no mask in m/: a.png; fix the names')")
BUG = "raise KeyError('class_names')"
LOADER = ("from torch.utils.data import DataLoader; from unet.train.dataset import CachedRows; "
          "from unet.train.folds import fold_rows; from unet.model.checkpoint import load; "
          "list(DataLoader")


def _step(tmp_path: Path, raise_: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "step.py"
    script.write_text(STEP.format(raise_=raise_))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})


def test_an_input_error_shows_its_message_alone_and_logs_the_traceback(tmp_path):
    log = tmp_path / "logs" / "step.log"
    out = _step(tmp_path, INPUT, str(log))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2, out.stderr
    assert "CRITICAL" in lines[0] and "DataLayoutError: images with no mask in m/" in lines[0]
    assert "Traceback" not in out.stderr and str(log) in lines[1]
    text = log.read_text().strip().splitlines()
    assert any("Traceback" in line for line in text) and any("in deep" in x for x in text)
    assert "CRITICAL" in text[-1] and text[-1].endswith("a.png; fix the names"), text
    assert sum("CRITICAL" in line for line in text) == 1


def test_a_bug_keeps_its_traceback_on_screen(tmp_path):
    log = tmp_path / "step.log"
    out = _step(tmp_path, BUG, str(log))
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "KeyError: 'class_names'" in out.stderr
    assert "Traceback" in log.read_text()


@pytest.mark.parametrize("raise_, message", [
    ("from unet.train.folds import fold_rows; fold_rows({'folds': []}, 3)",
     "ValueError: fold 3 does not exist: the cache has 0 folds (split.folds)"),
    ("from unet.infer.predict_folder import list_images; list_images('nowhere/new')",
     "FileNotFoundError: folder to predict nowhere/new does not exist; put the images there"),
    ("from unet.common.parallel import parallel_map; from unet.infer.predict_folder import "
     "list_images; list(parallel_map(list_images, ['nowhere/a', 'nowhere/a'], 2, 'list'))",
     "FileNotFoundError: folder to predict nowhere/a does not exist"),  # in a pool's worker
    # In a DataLoader's worker (train.num_workers > 0): torch re-raises the same type with the
    # worker's whole traceback as its message, and without an OSError's filename.
    (f"{LOADER}(CachedRows('nowhere', [('train', 0)]), num_workers=1))",
     "FileNotFoundError: [Errno 2] No such file or directory: 'nowhere/train_images.npy'"),
    (f"{LOADER}([0], num_workers=1, collate_fn=lambda b: fold_rows({{'folds': []}}, 3)))",
     "ValueError: fold 3 does not exist: the cache has 0 folds (split.folds)"),
    (f"{LOADER}(['/dev/null'], num_workers=2, collate_fn=lambda b: load(b[0])))",
     "CheckpointError: /dev/null is not a readable torch file (EOFError)"),
])
def test_the_projects_own_raise_of_a_builtin_error_reads_as_its_message(tmp_path, raise_,
                                                                        message):
    # Many of the project's refusals are plain ValueError or FileNotFoundError with a message
    # naming the file or key and the fix: raised by a `raise` in unet, they are bad input too.
    log = tmp_path / "step.log"
    out = _step(tmp_path, raise_, str(log))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert message in out.stderr.splitlines()[0] and str(log) in out.stderr
    assert "Traceback" in log.read_text() and message in log.read_text().splitlines()[-1]


def test_a_builtin_error_raised_elsewhere_is_a_bug(tmp_path):
    out = _step(tmp_path, "int('twelve')", str(tmp_path / "step.log"))
    assert out.returncode == 1 and "Traceback" in out.stderr and "int('twelve')" in out.stderr


def test_a_bug_in_a_data_loaders_worker_keeps_its_traceback(tmp_path):
    raise_ = f"{LOADER}([0], num_workers=1, collate_fn=lambda b: int('twelve')))"
    out = _step(tmp_path, raise_, str(tmp_path / "step.log"))
    assert out.returncode == 1 and "Traceback" in out.stderr and "int('twelve')" in out.stderr


def test_without_a_log_file_the_traceback_stays_on_screen(tmp_path):
    out = _step(tmp_path, INPUT)  # nowhere else to keep it
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "images with no mask in m/" in out.stderr


@pytest.mark.workflow
def test_a_failed_rule_reads_as_its_message(tmp_path):
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(
            data / "images" / f"a{i}.png")
        if i != 2:
            Image.fromarray(np.zeros((24, 32), np.uint8)).save(data / "masks" / f"a{i}.png")
    wd = copy_workflow(tmp_path / "wf")
    (wd / "local.yaml").write_text(
        f"dataset: {{name: mine, source: local, local: {{path: '{data}'}}}}\n")
    out = snakemake(wd, "results/mine/split.json", "--cores", "1", "--configfile", TINY,
                    "local.yaml", check=False)
    screen = out.stdout + out.stderr
    assert out.returncode != 0
    assert screen.count("Traceback") == 1, screen  # the log's, for a bug report
    block = screen.split("logs/download_dataset.log:\n")[1].split("=" * 80)[1]
    last = block.strip().splitlines()[-1]  # show-failed-logs' block ends with the message
    assert "CRITICAL" in last and "a2.png" in last and "allow_unpaired" in last, screen
    assert not (wd / "resources" / "mine" / "manifest.json").exists()


def test_the_cli_reads_bad_input_as_a_line_and_keeps_a_bugs_traceback(tmp_path, monkeypatch,
                                                                        capsys):
    # `unet` printed any ValueError as one line with no traceback anywhere (it keeps no log),
    # a bug's too; and the project's own errors that are no ValueError or OSError (a
    # RuntimeError such as KaggleError, or a worker killed for memory) as a traceback.
    import unet.model.describe as describe
    from unet.cli import main
    from unet.dataset.kaggle import KaggleError

    model = tmp_path / "model.pt"
    model.write_bytes(b"x")

    def refused(path):
        raise KaggleError("the competition's rules are not accepted: accept them on its page")

    monkeypatch.setattr(describe, "describe_model", refused)
    assert main(["info", str(model)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("unet info: the competition's rules are not accepted: accept them "
                           "on its page"), err

    def bug(path):
        return int("twelve")

    monkeypatch.setattr(describe, "describe_model", bug)
    with pytest.raises(ValueError, match="twelve"):  # to the excepthook: its traceback
        main(["info", str(model)])
