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
