"""One image's prediction written as it is computed: probabilities and mask, band by band.

At native size the bands go straight into memory-mapped files (the probabilities' `.npy` and
the mask's values), so a 8192x8192 image never sits whole in memory; the PNG is then encoded
from the mapped values. A band at another resolution (a scaled cache) is gathered and
upsampled to the original size at the end. Files appear under their names only when whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from unet.common.labels import MaskMapping
from unet.common.probs import probs_path, write_probs


def save_prediction(
    out_dir: str | os.PathLike, image_id: str, probs: torch.Tensor, mapping: MaskMapping
) -> None:
    """Write masks/<id>.png (data's own values) and probs/<id>.npy (float16) from probs
    (C, H, W) at the original size."""
    out_dir = Path(out_dir)
    _write(out_dir / "masks" / f"{image_id}.png", probs_path(out_dir, image_id), probs, mapping)


def _write(mask: Path, probs_file: Path | None, probs: torch.Tensor, mapping: MaskMapping) -> None:
    """A whole image's mask (and probabilities unless None) from probs (C, H, W)."""
    mapping.write(mask, probs.argmax(0).cpu().numpy())
    if probs_file:
        write_probs(probs_file, probs.cpu().numpy())


class PredictionWriter:
    """Context manager taking bands (C, rows, w) of an image's probabilities, top to bottom,
    at its cached (h, w); writes the mask PNG (and the probabilities' `.npy` unless None) at
    its original (H, W)."""

    def __init__(
        self,
        mask_path: str | os.PathLike,
        probs_file: str | os.PathLike | None,
        mapping: MaskMapping,
        cached: tuple[int, int],
        original: tuple[int, int],
    ) -> None:
        self.mask_path, self.mapping = Path(mask_path), mapping
        self.probs_file = Path(probs_file) if probs_file else None
        self.cached, self.original = tuple(cached), tuple(original)
        self.stream = self.cached == self.original
        self._bands: list[torch.Tensor] = []
        self._tmp: list[Path] = []

    def __enter__(self) -> PredictionWriter:
        if self.stream:
            c, (h, w) = self.mapping.num_classes, self.original
            if self.probs_file:
                self._probs_tmp = self._temp(self.probs_file)
                self._probs = np.lib.format.open_memmap(
                    self._probs_tmp, mode="w+", dtype=np.float16, shape=(c, h, w)
                )
            mask_tmp = self._temp(self.mask_path)
            dtype = self.mapping.to_values(np.zeros(1, np.uint8)).dtype
            self._values = np.memmap(mask_tmp, mode="w+", dtype=dtype, shape=(h, w))
        return self

    def _temp(self, final: Path) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        self._tmp.append(Path(name))
        return Path(name)

    def add(self, y: int, band: torch.Tensor) -> None:
        """Rows y.. of the probabilities, (C, rows, w) float, at the cached size."""
        if not self.stream:
            self._bands.append(band)
            return
        rows = band.shape[1]
        if self.probs_file:
            self._probs[:, y : y + rows] = band.numpy().astype(np.float16)
        self._values[y : y + rows] = self.mapping.to_values(band.argmax(0).numpy())

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            for path in self._tmp:
                path.unlink(missing_ok=True)

    def _finish(self) -> None:
        if not self.stream:
            probs = torch.cat(self._bands, dim=1)[None]  # (1, C, h, w)
            up = F.interpolate(probs, size=self.original, mode="bilinear", align_corners=False)
            _write(self.mask_path, self.probs_file, up[0], self.mapping)
            return
        if self.probs_file:
            self._probs.flush()
            del self._probs
            os.replace(self._probs_tmp, self.probs_file)
        # Encoded from the mapped values: PIL reads an 8-bit map in place, without a copy.
        self.mapping.write_values(self.mask_path, self._values)
        del self._values
