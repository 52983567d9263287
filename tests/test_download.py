"""Tests of the url and kaggle sources against an HTTP server on 127.0.0.1 that they start."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.dataset import url as download
from unet.dataset.archives import ArchiveError
from unet.dataset.download import download_dataset
from unet.dataset.url import DownloadError, fetch_archives

LAYOUT = {"images": "images", "masks": "masks"}


class Server:
    """Serves `files` by path; a path in `cut` gets half its body once, then a closed connection."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.hits: Counter[str] = Counter()
        self.url = ""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy in the environment must not intercept
    monkeypatch.setattr(download, "RETRY_WAIT", 0.0)
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.hits[self.path] += 1
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in state.cut:
                state.cut.discard(self.path)
                self.wfile.write(body[: len(body) // 2])  # promised all, sent half
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((6, 8), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def pairs(prefix: str = "", n: int = 2) -> dict[str, bytes]:
    files = {}
    for i in range(n):
        files[f"{prefix}images/p{i}.png"] = png(40 * i)
        files[f"{prefix}masks/p{i}.png"] = png(255 * (i % 2))
    return files


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_tar(
    files: dict[str, bytes], links: dict[str, str] | None = None, fifos: tuple[str, ...] = ()
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
        for name in fifos:
            info = tarfile.TarInfo(name)
            info.type = tarfile.FIFOTYPE
            tf.addfile(info)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_zip_pairs_into_manifest_and_records_sha256(server: Server, tmp_path: Path) -> None:
    server.files["/data.zip"] = blob = make_zip(pairs())
    url = f"{server.url}/data.zip"
    settings = {"archives": [{"url": url, "sha256": None}], **LAYOUT}
    manifest = download_dataset(tmp_path / "res" / "manifest.json", "url", settings)
    assert [p["id"] for p in manifest["pairs"]] == ["p0", "p1"]
    assert manifest["pairs"][0]["size"] == [8, 6]
    assert manifest["archives"][0]["url"] == url
    assert manifest["archives"][0]["sha256"] == sha(blob)  # seen, though none was configured
    # A second run reuses the download and the unpacked tree.
    download_dataset(tmp_path / "res" / "manifest.json", "url", settings)
    assert server.hits["/data.zip"] == 1


def test_tar_gz_with_root_and_pinned_sha256(server: Server, tmp_path: Path) -> None:
    server.files["/isbi.tar.gz"] = blob = make_tar(pairs("isbi/"))
    archives = [{"url": f"{server.url}/isbi.tar.gz", "sha256": sha(blob)}]
    settings = {"archives": archives, "root": "isbi", **LAYOUT}
    manifest = download_dataset(tmp_path / "manifest.json", "url", settings)
    assert len(manifest["pairs"]) == 2
    assert Path(manifest["root"]) == tmp_path / "data" / "isbi"


def test_file_url_and_leftovers_of_a_killed_run(tmp_path: Path) -> None:
    archive = tmp_path / "my data.zip"
    archive.write_bytes(make_zip(pairs()))
    res = tmp_path / "res"
    # What a killed run leaves: pooch's temporary download, a half-unpacked temporary tree,
    # and a data/ folder without the completion marker.
    (res / "downloads").mkdir(parents=True)
    (res / "downloads" / "tmpab12cd").write_bytes(b"half")
    (res / ".data.xyz.part" / "images").mkdir(parents=True)
    (res / "data" / "images").mkdir(parents=True)
    (res / "data" / "images" / "stray.png").write_bytes(b"half")
    records = fetch_archives([{"url": archive.as_uri(), "sha256": None}], res)
    assert records[0]["sha256"] == sha(archive.read_bytes())
    assert sorted(p.name for p in (res / "data" / "images").iterdir()) == ["p0.png", "p1.png"]
    assert sorted(p.name for p in res.iterdir()) == ["data", "downloads"]
    assert [p.name for p in (res / "downloads").iterdir()] == [Path(records[0]["file"]).name]


def test_cut_download_leaves_nothing_and_next_run_succeeds(server: Server, tmp_path: Path) -> None:
    server.files["/data.zip"] = make_zip(pairs())
    server.cut.add("/data.zip")
    urls = [{"url": f"{server.url}/data.zip", "sha256": None}]
    with pytest.raises(DownloadError, match=r"data\.zip.*dataset\.url\.archives\[0\]\.url"):
        fetch_archives(urls, tmp_path, retries=0)
    assert list((tmp_path / "downloads").iterdir()) == []  # no complete-looking file
    assert not (tmp_path / "data").exists()
    fetch_archives(urls, tmp_path, retries=0)  # the next run
    assert (tmp_path / "data" / "masks" / "p0.png").is_file()
    # Within one run: cut once, then retried.
    server.cut.add("/data.zip")
    fetch_archives(urls, tmp_path / "again", retries=1)
    assert server.hits["/data.zip"] == 4


def test_sha256_mismatch_names_url_and_key(server: Server, tmp_path: Path) -> None:
    server.files["/data.zip"] = blob = make_zip(pairs())
    url = f"{server.url}/data.zip"
    with pytest.raises(DownloadError) as err:
        fetch_archives([{"url": url, "sha256": "0" * 64}], tmp_path)
    msg = str(err.value)
    assert url in msg and "dataset.url.archives[0].sha256" in msg
    assert "0" * 64 in msg and sha(blob) in msg and "not kept" in msg
    assert list((tmp_path / "downloads").iterdir()) == []
    assert server.hits["/data.zip"] == 1  # a mismatch is not retried


def test_not_an_archive_is_removed(server: Server, tmp_path: Path) -> None:
    server.files["/login"] = b"<html>please sign in</html>"
    with pytest.raises(ArchiveError, match="neither a zip nor a tar"):
        fetch_archives([{"url": f"{server.url}/login", "sha256": None}], tmp_path)
    assert list((tmp_path / "downloads").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "blob"),
    [
        ("../evil.png", make_zip({"../evil.png": b"x"})),
        ("/abs.png", make_zip({"/abs.png": b"x"})),
        ("/abs.png", make_tar({"/abs.png": b"x"})),
        ("images/link", make_tar({}, {"images/link": "../../etc"})),
        ("images/link/passwd", make_tar({"images/link/passwd": b"x"}, {"images/link": "."})),
        ("up", make_tar({}, {"here": ".", "up": "here/.."})),  # lexically inside, really not
        ("images/fifo", make_tar(pairs(), fifos=("images/fifo",))),  # refused mid-way
    ],
    # ids of their own: the archives hold the time they were made, so ids made of their bytes
    # differed between pytest-xdist's workers, which then refused to run
    ids=["zip-parent", "zip-absolute", "tar-absolute", "tar-link-out", "tar-through-link",
         "tar-link-up", "tar-fifo"],
)
def test_escaping_members_are_refused(tmp_path: Path, name: str, blob: bytes) -> None:
    archive = tmp_path / "src" / "bad.tar"
    archive.parent.mkdir()
    archive.write_bytes(blob)
    dest = tmp_path / "a" / "b"
    with pytest.raises(ArchiveError) as err:
        fetch_archives([{"url": archive.as_uri(), "sha256": None}], dest)
    assert repr(name) in str(err.value) and "dataset.url.archives[0].url" in str(err.value)
    assert sorted(p.name for p in dest.iterdir()) == ["downloads"]  # no data/, no temp folder
    kept = {tmp_path / "a", dest, archive.parent}
    assert [
        p
        for p in tmp_path.rglob("*")
        if p not in kept and dest not in p.parents and archive.parent not in p.parents
    ] == []


def test_archives_sharing_a_file_are_refused(tmp_path: Path) -> None:
    urls = []
    for name, blob in (("a.zip", make_zip(pairs())), ("b.tar.gz", make_tar(pairs(n=1)))):
        (tmp_path / name).write_bytes(blob)
        urls.append({"url": (tmp_path / name).as_uri(), "sha256": None})
    with pytest.raises(ArchiveError) as err:
        fetch_archives(urls, tmp_path / "res")
    msg = str(err.value)
    assert "dataset.url.archives[1].url" in msg and "'images/p0.png' of " in msg
    assert "also in dataset.url.archives[0].url" in msg
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["downloads"]


def test_downloads_and_unpacked_folders_follow_the_umask(tmp_path: Path) -> None:
    # The unpacked data/ folder came from mkdtemp (0700) and the archive from pooch's temporary
    # file (0600): a lab group sharing resources/ could not read the data.
    import os
    import stat

    archive = tmp_path / "data.zip"
    archive.write_bytes(make_zip(pairs()))
    old = os.umask(0o002)
    try:
        records = fetch_archives([{"url": archive.as_uri(), "sha256": None}], tmp_path / "res")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "res" / "data") == 0o775
    assert mode(tmp_path / "res" / "downloads" / Path(records[0]["file"]).name) == 0o664


def test_a_local_archive_replaced_at_its_path_is_taken_again(tmp_path: Path) -> None:
    # An archive downloaded by hand and named by file:// was copied once and kept by its URL:
    # saving a newer version over it unpacked the old one again, without a word.
    archive = tmp_path / "data.zip"
    archive.write_bytes(make_zip(pairs(n=2)))
    url = [{"url": archive.as_uri(), "sha256": None}]
    first = fetch_archives(url, tmp_path / "res")
    archive.write_bytes(make_zip(pairs(n=3)))  # a newer version, same path
    second = fetch_archives(url, tmp_path / "res")
    assert second[0]["sha256"] == sha(archive.read_bytes()) != first[0]["sha256"]
    assert len(list((tmp_path / "res" / "data" / "images").iterdir())) == 3


def test_a_csv_file_is_placed_beside_the_unpacked_archives(server: Server, tmp_path: Path) -> None:
    # Kaggle competitions give masks as a CSV of run-length encodings beside an image
    # archive; a file that is no archive was refused (and removed) as a cut-off download.
    server.files["/train.zip"] = make_zip({"train/a.png": b"x"})
    server.files["/masks.csv"] = b"ImageId,EncodedPixels\na.png,1 2\n"
    fetch_archives([{"url": f"{server.url}/train.zip", "sha256": None},
                    {"url": f"{server.url}/masks.csv", "sha256": None}], tmp_path)
    assert (tmp_path / "data" / "masks.csv").read_bytes() == server.files["/masks.csv"]
    assert (tmp_path / "data" / "train" / "a.png").is_file()


def test_file_url_with_a_host_or_naming_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "rel").mkdir()
    for url, want in (("file://rel/data.zip", "file:///"), (tmp_path.as_uri() + "/rel/", "folder")):
        with pytest.raises(DownloadError, match=want) as err:  # was: '/data.zip does not exist'
            fetch_archives([{"url": url, "sha256": None}], tmp_path / "res")
        assert "does not exist" not in str(err.value)
