"""`unet --version`: the package's version and, beside it, what a bug report needs."""

from __future__ import annotations

import platform
from importlib import metadata


def _installed(*names: str) -> str | None:
    """The version of the first of the distributions `names` installed here, else None."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _device() -> str:
    """What `--device auto` picks here: the GPU by name, else the CPU."""
    import torch  # seconds to import: only when asked

    if not torch.cuda.is_available():
        return f"cpu (no CUDA GPU seen by torch; CUDA build {torch.version.cuda or 'none'})"
    count = torch.cuda.device_count()
    try:
        name = torch.cuda.get_device_name(0)
    except (RuntimeError, AssertionError) as err:  # counted, not opened: what a report needs
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"cuda unusable ({first}; {count} GPU{'s' * (count != 1)} counted, CUDA build " \
               f"{torch.version.cuda})"
    return f"cuda ({name}, {count} GPU{'s' * (count != 1)}, CUDA {torch.version.cuda})"


def version_line() -> str:
    """One line: unet-pipeline's version, Python's, torch's, pydensecrf's and the device."""
    import torch

    own = _installed("unet-pipeline") or "(not installed: pip install -e . in the checkout)"
    # pydensecrf2 is the build that installs on Python 3.11; the 2018 sdist is `pydensecrf`
    crf = _installed("pydensecrf2", "pydensecrf")
    return (f"unet-pipeline {own}, Python {platform.python_version()}, torch {torch.__version__}, "
            f"pydensecrf {crf or 'not installed'}, device {_device()}")
