"""Carvana's submission form, as the README gives it: `img,rle_mask` rows whose pixels count
along each row (as its train_masks.csv does), not `unet predict --rle`'s default columns."""

from __future__ import annotations

import csv
import re

import numpy as np
from PIL import Image

from tests.conftest import REPO
from unet.cli import parser
from unet.common.labels import MaskMapping
from unet.dataset.rle import decode
from unet.dataset.rle_submission import write_submission


def _carvana_flags() -> list[str]:
    """The --rle flags the README gives for a Carvana submission."""
    text = " ".join((REPO / "README.md").read_text().split())
    found = [m for s in re.split(r"(?<=\.) ", text) if "Carvana" in s
             for m in re.findall(r"`(--rle [^`]*)`", s)]
    assert found, "the README gives no --rle flags for a Carvana submission"
    return found[0].split()


def _row_major(mask: np.ndarray) -> str:
    """Carvana's train_masks.csv encoding, written independently: 1-based starts along rows."""
    on = np.flatnonzero(mask.ravel(order="C"))
    cut = np.flatnonzero(np.diff(on) != 1) + 1
    return " ".join(f"{r[0] + 1} {len(r)}" for r in np.split(on, cut))


def test_the_readme_s_carvana_flags_write_carvana_s_encodings(tmp_path):
    # The README gave Carvana no flags and the default counted down columns under ImageId,
    # EncodedPixels: every mask of the 24-car replica encoded otherwise than train_masks.csv
    args = parser().parse_args(["predict", "model.pt", "in", "-o", "out", *_carvana_flags()])
    yy, xx = np.mgrid[0:32, 0:48]
    car = (((xx - 26) / 18) ** 2 + ((yy - 14) / 8) ** 2 < 1) | ((xx > 4) & (xx < 9) & (yy > 20))
    png = tmp_path / "abc_01.png"
    mask = Image.fromarray(car.astype(np.uint8), "P")
    mask.putpalette([0, 0, 0, 255, 255, 255])  # Carvana's GIFs: indices 0/1, black and white
    mask.save(png)
    mapping = MaskMapping((0, 1), palette=(0, 0, 0, 255, 255, 255))
    out = tmp_path / "submission.csv"
    write_submission([("abc_01.jpg", png)], mapping, out, args.rle_order or "columns",
                     args.rle_objects, args.rle_columns, args.rle_id == "stem",
                     args.rle_starts or "absolute", args.rle_empty)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["img", "rle_mask"]
    assert rows[1] == ["abc_01.jpg", _row_major(car)]
    assert (decode(rows[1][1], (48, 32), "rows") == car).all()
