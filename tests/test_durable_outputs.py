"""What a power cut leaves of the outputs a rerun trusts: each is on disk before it is renamed."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings


@pytest.fixture
def disk_events(monkeypatch) -> list[tuple]:
    """Every os.fsync (the path synced) and os.replace (source, target), in order."""
    events: list[tuple] = []
    sync, replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        sync(fd)

    def rename(src, dst):
        events.append(("replace", str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", rename)
    return events


def _moved(events: list[tuple], target) -> int:
    """The index of the one rename onto `target`."""
    (k,) = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == str(target)]
    return k


def test_the_cache_is_on_disk_before_meta_json_marks_it_complete(tmp_path, disk_events):
    # The cache's .npy files were filled through memory maps and renamed into place with their
    # pages still in the page cache: after a power cut (ext4's delayed allocation, XFS) they
    # could read as zeros at their full size (their blocks are reserved), meta.json beside
    # them, and Snakemake's rerun trusted them: training on blank images and masks, no error.
    write_inputs(tmp_path, [write_pair(tmp_path, i) for i in range(4)])
    cache = tmp_path / "cache"
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", cache,
               PreprocessSettings(width=20, height=16), processes=1)
    meta = _moved(disk_events, cache / "meta.json")
    npys = sorted(cache.glob("*.npy"))
    assert len(npys) == 6
    for path in [*npys, cache / "meta.json"]:
        k = _moved(disk_events, path)
        scratch = disk_events[k][1]
        assert ("fsync", scratch) in disk_events[:k], (path.name, disk_events)  # its bytes
        if path.name != "meta.json":  # its rename is on disk before meta.json says complete
            assert ("fsync", str(cache)) in disk_events[k:meta], (path.name, disk_events)
    assert ("fsync", str(cache)) in disk_events[meta:], disk_events  # meta.json's rename
