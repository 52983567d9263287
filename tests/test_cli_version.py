"""`unet --version`: one line with what a bug report needs."""

from __future__ import annotations

from importlib import metadata

import pytest
import torch

from unet.cli import main


def test_version_names_the_package_torch_pydensecrf_and_device(capsys, monkeypatch):
    # `unet --version` was "unet: error: the following arguments are required: command"
    # (exit 2): a bug report had to dig the versions out of pip by hand
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as end:
        main(["--version"])
    assert end.value.code == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line, to paste
    assert f"unet-pipeline {metadata.version('unet-pipeline')}" in out, out
    assert f"torch {torch.__version__}" in out and "device cpu" in out, out
    assert f"pydensecrf {metadata.version('pydensecrf2')}" in out, out


def test_version_says_what_is_missing_and_which_gpu(capsys, monkeypatch):
    real = metadata.version

    def version(name: str) -> str:
        if name.startswith("pydensecrf"):
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H100")
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    assert "pydensecrf not installed" in out and "device cuda (NVIDIA H100, 2 GPUs" in out, out


def test_each_sub_command_s_help_says_what_it_does_and_needs(capsys):
    # `unet export --help` printed only its usage and options: no word of what it writes, nor
    # of the [onnx] extra it needs; the top help gave no exit codes for scripts to test
    from unet.cli import parser

    ap = parser()
    subs = next(a for a in ap._actions if a.choices and "predict" in a.choices).choices
    summaries = {a.dest: a.help for a in ap._subparsers._group_actions[0]._choices_actions}
    for name, sub in subs.items():  # argparse wraps a long summary: compared word by word
        assert " ".join(summaries[name].split()) in " ".join(sub.format_help().split()), name
    assert "pip install -e '.[onnx]'" in subs["export"].format_help()
    top = ap.format_help()
    assert all(f"{code}:" in " ".join(top.split()) for code in ("0", "1", "2", "130")), top


def test_a_closed_pipe_ends_version_quietly():
    # `unet --version | head -0` (a reader gone before the line was written) ended in a
    # BrokenPipeError traceback from inside argparse, exit 1, as for a bug
    import os
    import subprocess
    import sys
    from pathlib import Path

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    proc = subprocess.run([sys.executable, "-m", "unet.cli", "--version"], stdout=write,
                          stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141  # as `unet info MODEL | head -1` ends


def test_version_reports_a_gpu_that_torch_sees_but_cannot_use(capsys, monkeypatch):
    # A GPU that torch counts but cannot open (a driver older than torch's CUDA under
    # PYTORCH_NVML_BASED_CUDA_CHECK, a busy exclusive-process GPU) ended `unet --version`, the
    # line a bug report about it needs, in a RuntimeError traceback
    def broken(i=0):
        raise RuntimeError("CUDA error: CUDA-capable device(s) is/are busy or unavailable\nmore")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", broken)
    with pytest.raises(SystemExit) as end:
        main(["--version"])
    assert end.value.code == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and f"torch {torch.__version__}" in out, out
    assert "device cuda unusable (CUDA error: CUDA-capable device(s) is/are busy" in out, out
