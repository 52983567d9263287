"""Archive members whose names clash as a file system sees them: a file and a folder of one
name, and names in Unicode's decomposed form (macOS)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.test_archives import _fetch
from tests.test_download import make_zip
from unet.dataset.archives import ArchiveError


def _plain_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("blobs", [
    (("a.zip", make_zip({"data/x": b"abc", "data/x/": b"", "data/x/a.png": b"p"})),),
    (("a.zip", make_zip({"data/x/a.png": b"p", "data/x": b"abc"})),),
    (("a.tar", _plain_tar({"data/x": b"abc", "data/x/a.png": b"p"})),),
    (("a.tar", _plain_tar({"data/x": b"abc"})), ("b.zip", make_zip({"data/x/a.png": b"p"}))),
    (("a.zip", make_zip({"data/x/a.png": b"p"})), ("b.tar", _plain_tar({"data/x": b"abc"}))),
])
def test_a_file_and_a_folder_of_one_name_are_refused_by_name(
    tmp_path: Path, blobs: tuple[tuple[str, bytes], ...]
) -> None:
    # A file 'x' beside a folder 'x/' cannot both be written: it was a FileExistsError or
    # NotADirectoryError traceback from the middle of unpacking.
    with pytest.raises(ArchiveError, match=r"'data/x'.*both a file and a folder"):
        _fetch(tmp_path, *blobs)
    assert not (tmp_path / "res" / "data").exists()
