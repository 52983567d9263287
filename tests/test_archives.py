"""Unpacking archives as users get them: member names made on Windows or macOS, and members
that other archives' links would send outside the data folder."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.test_download import make_zip, pairs
from unet.dataset.archives import ArchiveError
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


def _tar(links: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return buf.getvalue()


def test_a_zip_member_is_not_written_through_another_archives_link(tmp_path: Path) -> None:
    # Each archive's links stay inside on their own, but "up" -> "x/.." with "x" -> "." from a
    # later archive leads to the parent folder, and a zip member under "up" landed there.
    blobs = (("a.tar", _tar({"up": "x/.."})), ("b.tar", _tar({"x": "."})),
             ("c.zip", make_zip({"up/evil.png": b"x"})))
    with pytest.raises(ArchiveError, match="'up/evil.png'"):
        _fetch(tmp_path, *blobs)
    assert not (tmp_path / "res" / "evil.png").exists()
    assert [p for p in tmp_path.rglob("evil.png")] == []


class _Unflagged(zipfile.ZipInfo):
    """A member name written as given bytes without the UTF-8 flag, as Info-ZIP's zip on
    Linux and Windows' own zip folders write names (zipfile itself always sets the flag)."""

    raw = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 (zipfile's name)
        return self.raw, self.flag_bits & ~0x800


def _zip_of_raw_names(names: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for raw in names:
            info = _Unflagged(raw.decode("ascii", "replace"))
            info.raw = raw
            zf.writestr(info, b"x")
    return buf.getvalue()


def test_zip_names_in_utf8_without_its_flag_are_read_as_utf8(tmp_path: Path) -> None:
    # `zip` on Linux stores UTF-8 names without the flag; read as cp437 (the zip default)
    # café.png became 'caf├⌐.png', an id no list of ids nor the user's file names match.
    blob = _zip_of_raw_names(["images/café.png".encode(), "images/naïve_日本.png".encode()])
    data = _fetch(tmp_path, ("linux.zip", blob))
    assert sorted(p.name for p in (data / "images").iterdir()) == ["café.png", "naïve_日本.png"]


def test_zip_names_in_cp437_stay_cp437(tmp_path: Path) -> None:
    data = _fetch(tmp_path, ("dos.zip", _zip_of_raw_names(["images/café.png".encode("cp437")])))
    assert [p.name for p in (data / "images").iterdir()] == ["café.png"]


def test_archives_inside_the_archive_are_named_when_the_folders_are_missing(
    tmp_path: Path,
) -> None:
    # Kaggle's download-all zip holds train.zip and train_masks.zip: the error said to set
    # root and images, though the data folder holds no folder at all, only archives.
    from unet.dataset.download import download_dataset
    from unet.dataset.layout import DataLayoutError

    inner = {"train.zip": make_zip(pairs()), "train_masks.tar.gz": b"x", "notes.txt": b"x"}
    (tmp_path / "all.zip").write_bytes(make_zip(inner))
    settings = {"archives": [{"url": (tmp_path / "all.zip").as_uri()}], "images": "train",
                "masks": "train_masks"}
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "res" / "manifest.json", "url", settings)
    msg = str(err.value)
    assert "train.zip, train_masks.tar.gz" in msg and "not unpacked" in msg
    assert "dataset.url.archives" in msg


@pytest.mark.parametrize(("blob", "kind"), [
    (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64), "a 7z archive"),
    (b"Rar!\x1a\x07\x01\x00" + bytes(64), "a RAR archive"),
    (__import__("gzip").compress(b"ImageId,EncodedPixels\n", mtime=0),
     "gzip-compressed file with no tar"),
], ids=["7z", "rar", "gzip"])  # the blob in an id (gzip's mtime) differed between xdist workers
def test_an_archive_of_another_kind_is_named_as_such(
    blob: bytes, kind: str, tmp_path: Path
) -> None:
    # A 7z or RAR data set was called "cut off, or an HTML page?", and the fix given (point
    # the URL at the archive itself) was what the user had done.
    with pytest.raises(ArchiveError, match="neither a zip nor a tar") as err:
        _fetch(tmp_path, ("data.bin", blob))
    assert kind in str(err.value) and "cut off" not in str(err.value)



def test_a_local_archive_replaced_by_an_older_dated_one_is_taken_again(tmp_path: Path) -> None:
    # cp -p or rsync -a keep the archive's own date: the new version, as large as the old,
    # was older than the kept copy, so the old copy was unpacked again.
    import os

    from tests.test_download import png

    archive = tmp_path / "data.zip"
    archive.write_bytes(make_zip({"images/a.png": png(1)}))
    url = [{"url": archive.as_uri(), "sha256": None}]
    fetch_archives(url, tmp_path / "res")
    archive.write_bytes(make_zip({"images/a.png": png(2)}))  # same size, other pixels
    os.utime(archive, (1e9, 1e9))
    fetch_archives(url, tmp_path / "res")
    assert (tmp_path / "res" / "data" / "images" / "a.png").read_bytes() == png(2)


def test_a_password_protected_zip_is_refused_by_name(tmp_path: Path) -> None:
    # zipfile raised a bare RuntimeError with a traceback, naming neither archive nor key.
    blob = bytearray(make_zip({"images/a.png": b"x" * 12}))
    for header, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        blob[blob.index(header) + at] |= 0x1  # the encrypted flag, as `zip -P` sets it
    with pytest.raises(ArchiveError, match="password") as err:
        _fetch(tmp_path, ("secret.zip", bytes(blob)))
    assert "dataset.url.archives[0].url" in str(err.value) and "'images/a.png'" in str(err.value)
    assert not (tmp_path / "res" / "data").exists()


def test_a_zip_compressed_in_a_way_python_cannot_read_is_refused_by_name(tmp_path: Path) -> None:
    # Windows' own zip folders write Deflate64 (method 9) above 2 GB, 7-Zip can write PPMd or
    # Zstandard: zipfile stopped with a bare NotImplementedError and a traceback.
    blob = bytearray(make_zip({"images/a.png": b"x" * 12}))
    for header, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # the method, local, central
        blob[blob.index(header) + at] = 9
    with pytest.raises(ArchiveError, match="Deflate64") as err:
        _fetch(tmp_path, ("big.zip", bytes(blob)))
    assert "'images/a.png'" in str(err.value) and "repack" in str(err.value)


def test_names_not_in_utf8_are_refused_when_the_manifest_is_written(tmp_path: Path) -> None:
    # A tar or folder with names in cp1252 or latin-1 (b'caf\xe9.png') gave the id
    # 'caf\udce9', and preprocess crashed on it with a UnicodeEncodeError after the download.
    import os

    from tests.test_download import png
    from unet.dataset.download import download_dataset
    from unet.dataset.layout import DataLayoutError

    for sub in ("images", "masks"):
        os.makedirs(tmp_path / "data" / sub)
        with open(os.path.join(os.fsencode(tmp_path / "data" / sub), b"caf\xe9.png"), "wb") as f:
            f.write(png(0))
    with pytest.raises(DataLayoutError, match="not UTF-8") as err:
        download_dataset(tmp_path / "res" / "manifest.json", "local",
                         {"path": str(tmp_path / "data")})
    assert "caf\\xe9.png" in str(err.value) and "rename" in str(err.value)
    assert not (tmp_path / "res" / "manifest.json").exists()


def test_tar_names_in_a_legacy_code_page_are_read_as_cp1252(tmp_path: Path) -> None:
    # GNU tar keeps names as the bytes it was given: b'caf\xe9.png' from a cp1252 or latin-1
    # system unpacked as 'caf\udce9.png', an id no later step can write.
    from tests.test_download import png

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="cp1252") as tf:
        for name in ("images/café.png", "images/€uro.png"):
            info = tarfile.TarInfo(name)
            info.size = len(png(0))
            tf.addfile(info, io.BytesIO(png(0)))
        link = tarfile.TarInfo("images/link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "café.png"
        tf.addfile(link)
    data = _fetch(tmp_path, ("old.tar", buf.getvalue()))
    names = sorted(p.name for p in (data / "images").iterdir())
    assert names == ["café.png", "link.png", "€uro.png"]
    assert (data / "images" / "link.png").read_bytes() == png(0)


def test_a_tree_unpacked_by_an_earlier_version_is_unpacked_again(tmp_path: Path) -> None:
    # The marker named only the archives and their digests, so a tree unpacked before a fix
    # to unpacking (backslashes, names' encodings) was kept, wrong files and all.
    import json

    from unet.dataset.archives import MARKER

    blob = make_zip({name.replace("/", "\\"): data for name, data in pairs().items()})
    data = _fetch(tmp_path, ("win.zip", blob))
    marker = json.loads((data / MARKER).read_text())
    (data / "images" / "p0.png").rename(data / "images\\p0.png")  # as the old code left it
    old = marker["archives"] if isinstance(marker, dict) else marker
    (data / MARKER).write_text(json.dumps(old))  # the old marker: the archives alone
    data = _fetch(tmp_path, ("win.zip", blob))
    assert sorted(p.name for p in (data / "images").iterdir()) == ["p0.png", "p1.png"]


def test_a_json_file_is_placed_beside_the_unpacked_archives(tmp_path: Path) -> None:
    # LIVECell serves images.zip and its COCO annotations as separate .json files: the JSON
    # was removed as "neither a zip nor a tar archive (cut off, or an HTML page?)".
    coco = b'{"images": [], "annotations": [], "categories": []}'
    data = _fetch(tmp_path, ("images.zip", make_zip({"images/a.png": b"x"})),
                  ("livecell_coco_train.json", coco))
    assert (data / "livecell_coco_train.json").read_bytes() == coco
