"""Downloads from HTTP servers as they are met in the wild: archives sent with a
Content-Encoding header, connections cut mid-file, and servers asking to come back later."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.test_download import make_tar, make_zip, pairs, sha
from unet.dataset import http_get
from unet.dataset import url as download
from unet.dataset.url import DownloadError, fetch_archives


@dataclass
class Site:
    """Files by path; `gzip_header`: paths sent with Content-Encoding: gzip (their bytes as
    they are); `cut_at`: paths whose first answer stops after that many bytes; `busy`: paths
    answered (status, Retry-After) first; `ranges`: the Range headers received."""

    files: dict[str, bytes] = field(default_factory=dict)
    gzip_header: set[str] = field(default_factory=set)
    cut_at: dict[str, int] = field(default_factory=dict)
    busy: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    encodings: list[str | None] = field(default_factory=list)
    trickle: dict[str, int] = field(default_factory=dict)  # path: answers sent 20 B at a time
    url: str = ""


def _answer(handler: BaseHTTPRequestHandler, site: Site) -> None:
    path, body = handler.path, site.files.get(handler.path)
    site.ranges.append(handler.headers.get("Range"))
    site.encodings.append(handler.headers.get("Accept-Encoding"))
    if body is None:
        handler.send_error(404)
        return
    if site.busy.get(path):
        status, after = site.busy[path].pop(0)
        handler.send_response(status)
        handler.send_header("Retry-After", after)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    start, wanted = 0, handler.headers.get("Range")
    if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
        start = int(wanted[6:-1])
    handler.send_response(206 if start else 200)
    if start:
        handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
    handler.send_header("Accept-Ranges", "bytes")
    handler.send_header("ETag", f'"{sha(body)[:16]}"')
    if path in site.gzip_header:  # Apache's AddEncoding x-gzip .gz, nginx's gzip_static
        handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body) - start))
    handler.end_headers()
    if path in site.cut_at:
        handler.wfile.write(body[start:site.cut_at.pop(path)])  # promised all, sent part
        handler.close_connection = True
        return
    if site.trickle.get(path):
        site.trickle[path] -= 1
        _trickle(handler, body[start:])
        return
    handler.wfile.write(body[start:])


def _trickle(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Send `body` 20 bytes every 50 ms (400 B/s), as a failing mirror does, until the
    client hangs up."""
    try:
        for i in range(0, len(body), 20):
            handler.wfile.write(body[i:i + 20])
            handler.wfile.flush()
            time.sleep(0.05)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(download, "RETRY_WAIT", 0.0)
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            _answer(self, state)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_a_tar_gz_sent_with_content_encoding_gzip_is_kept_as_served(
    site: Site, tmp_path: Path
) -> None:
    # requests un-gzipped the body: the pinned sha256 (of the file as served, as curl and
    # sha256sum see it) mismatched, and with no pin the kept file was a bare tar.
    site.files["/data.tar.gz"] = blob = make_tar(pairs())
    site.gzip_header.add("/data.tar.gz")
    urls = [{"url": f"{site.url}/data.tar.gz", "sha256": sha(blob)}]
    records = fetch_archives(urls, tmp_path)
    assert Path(records[0]["file"]).read_bytes() == blob
    assert sorted(p.name for p in (tmp_path / "data" / "images").iterdir()) == ["p0.png", "p1.png"]
    assert site.encodings == ["identity"]  # nothing compressed on the fly is asked for


def test_a_gzip_encoded_zip_sent_with_its_header_is_decoded(
    site: Site, tmp_path: Path
) -> None:
    # A server that does compress on the fly (gzip on) sends a gzip of the file; that is not
    # the file, and its sha256 is the file's.
    blob = make_zip(pairs())
    site.files["/data.zip"] = gzip.compress(blob)
    site.gzip_header.add("/data.zip")
    records = fetch_archives([{"url": f"{site.url}/data.zip", "sha256": sha(blob)}], tmp_path)
    assert Path(records[0]["file"]).read_bytes() == blob


def test_a_download_cut_near_its_end_asks_for_the_rest(site: Site, tmp_path: Path) -> None:
    # A cut threw away what had come and fetched the whole file again (each of 3 retries):
    # a 10 GB archive cut at 9 GB cost 9 GB more. A server that takes ranges is asked for
    # the rest, checked by its ETag, twice here.
    blob = make_zip({f"images/p{i}.png": bytes(range(256)) * 1024 for i in range(8)})
    site.files["/big.zip"] = blob
    cut = site.cut_at["/big.zip"] = len(blob) * 9 // 10
    urls = [{"url": f"{site.url}/big.zip", "sha256": sha(blob)}]
    records = fetch_archives(urls, tmp_path, retries=0)
    assert Path(records[0]["file"]).read_bytes() == blob
    assert site.ranges[0] is None and len(site.ranges) == 2
    start = int(site.ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert cut - http_get.CHUNK <= start <= cut  # only the read the cut broke is lost


def test_a_server_that_answers_the_range_with_the_whole_file_is_taken_whole(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = make_zip(pairs())
    site.files["/data.zip"] = blob
    site.cut_at["/data.zip"] = 100
    original = _answer

    def no_ranges(handler: BaseHTTPRequestHandler, state: Site) -> None:
        del handler.headers["Range"]  # a server that sends 200 and all of it
        original(handler, state)

    monkeypatch.setattr(f"{__name__}._answer", no_ranges)
    records = fetch_archives([{"url": f"{site.url}/data.zip", "sha256": sha(blob)}], tmp_path,
                             retries=0)
    assert Path(records[0]["file"]).read_bytes() == blob


def test_too_many_requests_is_waited_out_as_the_server_asks(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HTTP 429 (a rate limit) ended the run at once, as a wrong URL; 503 waited 2, 4, 8 s
    # whatever Retry-After said.
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    site.files["/data.zip"] = blob = make_zip(pairs())
    site.busy["/data.zip"] = [(429, "7"), (503, "0")]
    fetch_archives([{"url": f"{site.url}/data.zip", "sha256": sha(blob)}], tmp_path)
    assert waits == [7.0, 0.0]


def test_a_server_asking_for_a_long_wait_is_named_at_once(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    site.files["/data.zip"] = make_zip(pairs())
    site.busy["/data.zip"] = [(503, "7200")]
    with pytest.raises(DownloadError, match=r"asks to come back in 7200 s.*run again"):
        fetch_archives([{"url": f"{site.url}/data.zip", "sha256": None}], tmp_path)
    assert waits == []


def test_downloads_no_archive_names_any_more_are_named_with_their_size(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Each URL change kept the old archive in downloads/ for ever, without a word.
    site.files["/v1.zip"] = old = make_zip(pairs())
    site.files["/v2.zip"] = make_zip(pairs(n=3))
    fetch_archives([{"url": f"{site.url}/v1.zip", "sha256": None}], tmp_path)
    caplog.set_level("INFO")
    fetch_archives([{"url": f"{site.url}/v2.zip", "sha256": None}], tmp_path)
    kept = [p for p in (tmp_path / "downloads").iterdir() if p.name.endswith("-v1.zip")]
    assert len(kept) == 1  # nothing a user may want is deleted
    note = [r.getMessage() for r in caplog.records if "no archive" in r.getMessage()]
    assert len(note) == 1 and kept[0].name in note[0] and f"{len(old) / 1e6:.1f} MB" in note[0]


def test_a_server_that_trickles_is_cut_off_and_asked_for_the_rest(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each read waited up to 60 s for a byte, so a server sending a few bytes a minute held
    # the download (and a cluster job's walltime) for ever. Under MIN_RATE over a window the
    # transfer is cut and, where the server takes ranges, resumed.
    monkeypatch.setattr(http_get, "STALL_SECONDS", 0.3)
    monkeypatch.setattr(http_get, "MIN_RATE", 10_000)
    site.files["/slow.zip"] = blob = make_zip(pairs())
    site.trickle["/slow.zip"] = 1
    records = fetch_archives([{"url": f"{site.url}/slow.zip", "sha256": sha(blob)}], tmp_path,
                             retries=0)
    assert Path(records[0]["file"]).read_bytes() == blob
    assert site.ranges[0] is None and site.ranges[1].startswith("bytes=")
    assert int(site.ranges[1][6:-1]) > 0  # what had come was kept


def test_a_server_that_always_trickles_is_named_with_its_rate(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_get, "STALL_SECONDS", 0.3)
    monkeypatch.setattr(http_get, "MIN_RATE", 10_000)
    site.files["/slow.zip"] = make_zip(pairs())
    site.trickle["/slow.zip"] = 99
    with pytest.raises(DownloadError, match=r"slow\.zip.*under 10000 bytes/s"):
        fetch_archives([{"url": f"{site.url}/slow.zip"}], tmp_path, retries=0)
    assert not list(tmp_path.glob("*.zip"))  # no partial file that looks complete
