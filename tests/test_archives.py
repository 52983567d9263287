"""Unpacking archives as users get them: member names made on Windows or macOS, and members
that other archives' links would send outside the data folder."""

from __future__ import annotations

from pathlib import Path

from tests.test_download import make_zip, pairs
from unet.dataset.url import fetch_archives


def _fetch(tmp_path: Path, *blobs: tuple[str, bytes]) -> Path:
    urls = []
    for name, blob in blobs:
        (tmp_path / name).write_bytes(blob)
        urls.append({"url": (tmp_path / name).as_uri(), "sha256": None})
    fetch_archives(urls, tmp_path / "res")
    return tmp_path / "res" / "data"


def test_zip_names_with_backslashes_unpack_into_folders(tmp_path: Path) -> None:
    # Zips made on Windows by older tools separate folders with '\': zipfile keeps the
    # backslash in the file name on Linux, leaving files 'images\p0.png' beside no images/.
    blob = make_zip({name.replace("/", "\\"): data for name, data in pairs().items()})
    data = _fetch(tmp_path, ("win.zip", blob))
    assert sorted(p.name for p in (data / "images").iterdir()) == ["p0.png", "p1.png"]
    assert sorted(p.name for p in data.iterdir()) == [".unpacked.json", "images", "masks"]
