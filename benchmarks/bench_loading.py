"""Loading a training batch from the `.npy` cache vs decoding the same images."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import default_collate

from benchmarks.common import Row, interleaved, row
from benchmarks.fixtures import CARVANA_HALF, build_cache, carvana_like, scratch
from unet.cache.preprocess import load_pair
from unet.cache.values import mapping_from_values
from unet.common.fileio import read_json
from unet.train.dataset import CachedSplit

BATCH = 8
SIZES = {False: (24, 5), True: (12, 3)}  # (pairs, repeats); True: --quick


def _as_sample(image: np.ndarray, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """What CachedSplit returns (copying, as it does): image (C, H, W) float, mask (H, W) long."""
    img = torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div_(255.0)
    return img, torch.from_numpy(index).long()


def run(quick: bool = False) -> list[Row]:
    """Images per second into a collated batch: cache (warm page cache) vs JPEG/GIF decode."""
    n, repeats = SIZES[quick]
    pairs = carvana_like(scratch() / "carvana", n)
    cache = build_cache(scratch() / "loading", pairs, CARVANA_HALF, (0, 1))
    ids = read_json(cache / "meta.json")["splits"]["train"]["ids"]
    by_id = {p["id"]: p for p in pairs}
    mapping = mapping_from_values(set(), (0, 1), None, 16, None)
    jobs = [(by_id[i], CARVANA_HALF, 3, mapping, None) for i in ids[:BATCH]]
    dataset = CachedSplit(cache, "train")

    def from_cache() -> None:
        default_collate([dataset[i] for i in range(BATCH)])

    def decode() -> None:
        default_collate([_as_sample(*load_pair(job)) for job in jobs])

    from_cache()
    cached, package = (BATCH / s for s in interleaved(repeats, from_cache, decode))
    note = f"batch of {BATCH} at {CARVANA_HALF[0]}x{CARVANA_HALF[1]} from 1918x1280 JPEG+GIF"
    return [
        row(
            "loading: batch from .npy cache",
            cached,
            "images/s",
            package,
            note=f"vs the package's load_pair decode; {note}; warm page cache",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
