"""What a power cut (or a lost node) leaves of the files training resumes from."""

from __future__ import annotations

import os

import torch

from unet.model import checkpoint


def test_a_checkpoint_is_on_disk_before_it_replaces_the_last_one(tmp_path, monkeypatch):
    # checkpoint.save renamed its scratch file onto last.pt with the bytes still in the page
    # cache: after a power cut ext4 (delayed allocation) or XFS can show last.pt empty, and
    # the next run stopped on "last.pt is cut off" with the previous epoch's checkpoint gone.
    events = []
    sync, replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        sync(fd)

    def rename(src, dst):
        events.append(("replace", str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", rename)
    last = tmp_path / "last.pt"
    checkpoint.save(last, {"w": torch.zeros(10)})
    moved = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == str(last)]
    assert len(moved) == 1, events
    scratch = events[moved[0]][1]
    assert ("fsync", scratch) in events[: moved[0]], events  # its bytes, before the rename
    assert ("fsync", str(tmp_path)) in events[moved[0]:], events  # the rename itself
    assert checkpoint.load(last)["w"].shape == (10,)
