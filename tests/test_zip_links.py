"""Symbolic links stored in a zip (`zip -y`, macOS' ditto): kept as links inside the data
folder, refused by name where they lead out of it."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from tests.test_download import pairs
from unet.dataset.archives import ArchiveError
from unet.dataset.url import fetch_archives


def _zip(files: dict[str, bytes], links: dict[str, str]) -> bytes:
    """A zip holding `files` and symlink members (Unix mode S_IFLNK, the target as content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix, whose mode bits the upper 16 bits hold
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def _fetch(tmp_path: Path, blob: bytes) -> Path:
    (tmp_path / "a.zip").write_bytes(blob)
    fetch_archives([{"url": (tmp_path / "a.zip").as_uri(), "sha256": None}], tmp_path / "res")
    return tmp_path / "res" / "data"


@pytest.mark.parametrize(("name", "target"), [
    ("images/p9.png", "../../../../etc/passwd"), ("images/p9.png", "/etc/passwd"),
    ("images/sub", "../.."),
])
def test_a_zip_link_leading_outside_is_refused_by_name(tmp_path: Path, name, target) -> None:
    # It was written as a small file holding its target: an "image" p9.png that named no
    # mask, never refused as the link outside the folder it is.
    with pytest.raises(ArchiveError) as err:
        _fetch(tmp_path, _zip(pairs(), {name: target}))
    assert f"{name!r}" in str(err.value) and f"a link to {target!r}, outside" in str(err.value)
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["downloads"]


def test_a_member_under_a_zip_link_is_refused(tmp_path: Path) -> None:
    blob = _zip({"images/up/evil.png": b"x"}, {"images/up": "."})
    with pytest.raises(ArchiveError, match="'images/up/evil.png' .* lies under a link"):
        _fetch(tmp_path, blob)


def test_a_zip_link_inside_the_folder_is_a_link_to_its_file(tmp_path: Path) -> None:
    # An image shared by two names (a mask reused for an image that has no object of its
    # own) was unpacked as a text file holding "p0.png", unreadable as an image.
    files = pairs()
    blob = _zip(files, {"images/p2.png": "p0.png", "masks/p2.png": "../masks/p0.png"})
    data = _fetch(tmp_path, blob)
    for side in ("images", "masks"):
        link = data / side / "p2.png"
        assert link.is_symlink() and link.read_bytes() == files[f"{side}/p0.png"]
        assert os.path.realpath(link) == os.path.realpath(data / side / "p0.png")


def test_a_zip_link_out_through_another_archives_link_is_refused(tmp_path: Path) -> None:
    # "up" -> "x/.." reads as the folder itself, but "x" -> "." from a tar unpacked before
    # makes it the folder's parent.
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("x")
        info.type, info.linkname = tarfile.SYMTYPE, "."
        tf.addfile(info)
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    (tmp_path / "b.zip").write_bytes(_zip({}, {"up": "x/.."}))
    urls = [{"url": (tmp_path / n).as_uri(), "sha256": None} for n in ("a.tar", "b.zip")]
    with pytest.raises(ArchiveError, match="'up' .* leading outside"):
        fetch_archives(urls, tmp_path / "res")
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["downloads"]


def test_zip_links_on_a_file_system_without_symlinks_are_copies(tmp_path: Path, monkeypatch):
    # exFAT, a CIFS share without Unix extensions, Windows without the symlink privilege: the
    # link member failed with a bare 'Operation not permitted'; tarfile copies the target there.
    import errno

    from unet.dataset import archives

    def refused(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(archives.os, "symlink", refused)
    files = pairs()
    blob = _zip(files, {"images/p2.png": "p0.png", "masks/p2.png": "..\\masks\\p0.png",
                        "more": "masks"})
    data = _fetch(tmp_path, blob)
    for side in ("images", "masks"):
        copy = data / side / "p2.png"
        assert not copy.is_symlink() and copy.read_bytes() == files[f"{side}/p0.png"]
    assert (data / "more" / "p0.png").read_bytes() == files["masks/p0.png"]


def test_zip_links_to_links_are_copies_whatever_their_order(tmp_path: Path, monkeypatch):
    # Copied in the zip's order, a link to a link listed after it ('latest' -> 'v2' before
    # 'v2' -> 'v1') was left out as dangling, and a folder copied before a link inside it was
    # made ('all' -> 'masks' before 'masks/p2.png') lacked that file, where links have both.
    import errno

    from unet.dataset import archives

    def refused(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(archives.os, "symlink", refused)
    files = pairs()
    blob = _zip(files, {"all": "masks", "latest": "masks/p2.png", "masks/p2.png": "p0.png"})
    data = _fetch(tmp_path, blob)
    assert (data / "latest").read_bytes() == files["masks/p0.png"]
    assert (data / "all" / "p2.png").read_bytes() == files["masks/p0.png"]
