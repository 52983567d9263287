"""Where the compared mask folders live: one definition for every rule that reads them."""

from __future__ import annotations

import os
from pathlib import Path


def method_dirs(
    pred: str | os.PathLike,
    crf: str | os.PathLike | None,
    final: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Mask folders by method name: raw predictions, CRF-refined (unless the CRF is off: None)
    and (when given) final."""
    dirs = {"raw": Path(pred) / "masks"}
    if crf is not None:
        dirs["crf"] = Path(crf) / "masks"
    if final is not None:
        dirs["final"] = Path(final) / "masks"
    return dirs
