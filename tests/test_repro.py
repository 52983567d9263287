"""Reproducibility: what only changes speed (train.num_workers) leaves the result alone."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from unet.common.logs import progress


class _Counted(DataLoader):
    """A DataLoader that counts the iterators made of it."""

    made = 0

    def __iter__(self):
        type(self).made += 1
        return super().__iter__()


def test_progress_iterates_a_loader_once():
    # tqdm.auto called iter() on the loader and then iterated it again: a second shuffle and
    # worker seed were drawn from the epoch's generator (so 0 and 2 workers trained on other
    # batches), and workers started prefetching an epoch that was thrown away.
    gen = torch.Generator().manual_seed(1)
    loader = _Counted(list(range(6)), batch_size=2, shuffle=True, generator=gen)
    seen = [b.tolist() for b in progress(loader, "epoch 1", total=3)]
    assert _Counted.made == 1 and sorted(sum(seen, [])) == list(range(6))
    again = torch.Generator().manual_seed(1)
    direct = [b.tolist() for b in DataLoader(list(range(6)), batch_size=2, shuffle=True,
                                             generator=again)]
    assert seen == direct
