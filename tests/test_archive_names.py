"""Archive members whose names clash as a file system sees them: a file and a folder of one
name, and names in Unicode's decomposed form (macOS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_archives import _fetch
from tests.test_download import make_tar, make_zip
from unet.dataset.archives import ArchiveError


@pytest.mark.parametrize("blobs", [
    (("a.zip", make_zip({"data/x": b"abc", "data/x/": b"", "data/x/a.png": b"p"})),),
    (("a.zip", make_zip({"data/x/a.png": b"p", "data/x": b"abc"})),),
    (("a.tar", make_tar({"data/x": b"abc", "data/x/a.png": b"p"})),),
    (("a.tar", make_tar({"data/x": b"abc"})), ("b.zip", make_zip({"data/x/a.png": b"p"}))),
    (("a.zip", make_zip({"data/x/a.png": b"p"})), ("b.tar", make_tar({"data/x": b"abc"}))),
])
def test_a_file_and_a_folder_of_one_name_are_refused_by_name(
    tmp_path: Path, blobs: tuple[tuple[str, bytes], ...]
) -> None:
    # A file 'x' beside a folder 'x/' cannot both be written: it was a FileExistsError or
    # NotADirectoryError traceback from the middle of unpacking.
    with pytest.raises(ArchiveError, match=r"'data/x'.*both a file and a folder"):
        _fetch(tmp_path, *blobs)
    assert not (tmp_path / "res" / "data").exists()


NFD, NFC = "cafe\u0301", "caf\u00e9"  # macOS writes 'café' decomposed; typed, it is composed


def test_decomposed_names_unpack_composed_as_typed(tmp_path: Path) -> None:
    # A macOS zip's names stayed decomposed on disk: a COCO file_name, a CSV id or a mask named
    # as typed (composed) found no file, and ids differed from what the user types.
    files = {f"images/{NFD}.png": b"i", f"masks/{NFC}.png": b"m", f"{NFD}/x.png": b"p"}
    data = _fetch(tmp_path, ("mac.zip", make_zip(files)),
                  ("mac.tar", make_tar({f"tar/{NFD}.png": b"t"})))
    assert (data / "images" / f"{NFC}.png").is_file() and (data / "masks" / f"{NFC}.png").is_file()
    assert (data / NFC / "x.png").is_file() and (data / "tar" / f"{NFC}.png").is_file()
    names = {p.name for p in data.rglob("*")}
    assert not any(NFD in n for n in names)


@pytest.mark.parametrize("make", [make_zip, make_tar])
def test_one_name_in_both_forms_is_refused(tmp_path: Path, make) -> None:
    # A tar's names were composed as they were read, so its two spellings of one name looked
    # like one member given twice: the second silently replaced the first.
    files = {f"images/{NFD}.png": b"1", f"images/{NFC}.png": b"2"}
    with pytest.raises(ArchiveError, match=f"'images/{NFD}.png'.*same name"):
        _fetch(tmp_path, ("two.bin", make(files)))
    assert not (tmp_path / "res" / "data").exists()


def test_split_ids_match_in_either_form() -> None:
    from unet.dataset.split import make_split

    split = make_split([NFC, "b", "c", "d"], seed=0, val_fraction=0.25, test_fraction=0.0,
                       test_ids=[NFD], val_ids=None)
    assert split["test"] == [NFC]


def test_a_file_url_is_decoded_once(tmp_path: Path) -> None:
    """Path('.../e%20f.zip').as_uri() is file:///.../e%2520f.zip (the form the README and the
    errors give): it was decoded twice, to '.../e f.zip', another file or none."""
    from tests.test_download import pairs
    from unet.dataset.url import fetch_archives, file_url_path

    for name in ("e%20f.zip", "set#2.zip", "100%.zip", "a b (1).zip"):
        assert file_url_path((tmp_path / name).as_uri()) == tmp_path / name
    (tmp_path / "e%20f.zip").write_bytes(make_zip(pairs()))
    (tmp_path / "e f.zip").write_bytes(make_zip(pairs(n=1)))  # the file it was taken for
    records = fetch_archives([{"url": (tmp_path / "e%20f.zip").as_uri(), "sha256": None}],
                             tmp_path / "res")
    assert len(list((tmp_path / "res" / "data" / "images").iterdir())) == 2, records


def test_a_hash_left_unescaped_in_a_file_url_is_explained(tmp_path: Path) -> None:
    """file:///.../set#2.zip was refused as '.../set does not exist': '#' ends a URL's path."""
    from unet.dataset.url import DownloadError, fetch_archives

    (tmp_path / "set#2.zip").write_bytes(make_zip({"data/a.png": b"p"}))
    with pytest.raises(DownloadError, match="%23") as err:
        fetch_archives([{"url": f"file://{tmp_path}/set#2.zip", "sha256": None}], tmp_path / "r")
    assert (tmp_path / "set#2.zip").as_uri() in str(err.value)
