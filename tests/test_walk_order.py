"""A recursive walk (predict.recursive, layouts with recursive: true) names each file by the
same path whatever order the file system lists folders in."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from unet.dataset.per_id import images_in, new_id


def test_a_folder_reached_twice_is_named_by_one_path_in_any_listing_order(tmp_path, monkeypatch):
    """A folder reached both as itself and through a link was named by whichever os.walk met
    first, in the file system's listing order: the masks of one image set landed in scans/ on
    one disk and in alias/ on another (and a rerun on a copy predicted everything again). Real
    folders come first now, then links, each by name."""
    (tmp_path / "scans").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "scans" / "a.png")
    (tmp_path / "alias").symlink_to(tmp_path / "scans")
    walk = os.walk

    def listed(order):
        def walked(top, **kw):
            for here, dirs, files in walk(top, **kw):
                dirs.sort(reverse=order == "reversed")  # as another file system lists them
                yield here, dirs, files
        monkeypatch.setattr(os, "walk", walked)
        return [new_id(p, tmp_path) for p in images_in(tmp_path, (".png",), None, recursive=True)]

    assert listed("sorted") == listed("reversed") == ["scans/a"]
