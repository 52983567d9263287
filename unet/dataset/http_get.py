"""A pooch downloader for http(s) that keeps the file as served and resumes a cut transfer."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import urlparse

import requests
import urllib3
from tqdm import tqdm

log = logging.getLogger(__name__)

MAX_WAIT = 300.0  # seconds: a server asking for a longer wait is named, not waited for
CHUNK = 1 << 16  # what a cut loses at most: urllib3 drops the read it broke in
# A transfer bringing under MIN_RATE bytes/s over STALL_SECONDS is cut, then resumed like a
# broken one: the read timeout alone let a server sending a byte a minute hold it for ever.
STALL_SECONDS = 60.0
MIN_RATE = 1024
# The file itself is gzip: a Content-Encoding header on it (Apache's AddEncoding x-gzip .gz,
# nginx's gzip_static) describes the file, not a compression for the transfer.
_GZIP_NAMES = (".gz", ".tgz", ".gzip")
_GZIP_TYPES = ("application/gzip", "application/x-gzip", "application/x-tgz")
class Stalled(TimeoutError):
    """A transfer slower than MIN_RATE over STALL_SECONDS."""


# What urllib3 raises when the connection ends or stalls before the promised bytes came.
_BROKEN = (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError,
           urllib3.exceptions.SSLError, ConnectionError, TimeoutError)


def _file_is_gzip(url: str, response: requests.Response) -> bool:
    """Whether a gzip Content-Encoding names the file's own format, so that its bytes are the
    file as served (what curl or wget save, and what a published sha256 is of)."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip"):
        return False
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return urlparse(response.url or url).path.lower().endswith(_GZIP_NAMES) or kind in _GZIP_TYPES


def retry_after(response: requests.Response | None) -> float | None:
    """The seconds a 429 or 503 answer's Retry-After asks to wait (a number or an HTTP
    date), or None when it gives none that can be read."""
    given = response.headers.get("Retry-After", "").strip() if response is not None else ""
    if given.isdigit():
        return float(given)
    try:
        when = parsedate_to_datetime(given)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _chunks(response: requests.Response, decode: bool) -> Iterator[bytes]:
    """The body as it comes (read1: whatever has arrived, up to CHUNK), raising Stalled when
    a window of STALL_SECONDS brings under MIN_RATE bytes a second."""
    start, got = time.monotonic(), 0
    while chunk := response.raw.read1(CHUNK, decode_content=decode):
        yield chunk
        got, now = got + len(chunk), time.monotonic()
        if now - start >= STALL_SECONDS:
            if got < MIN_RATE * (now - start):
                raise Stalled(f"under {MIN_RATE} bytes/s for {now - start:.0f} s ({got} bytes)")
            start, got = now, 0


def _resumed_at(response: requests.Response, done: int) -> bool:
    """Whether a ranged answer carries the file from byte `done` on (206 with that range)."""
    given = response.headers.get("Content-Range", "")
    return response.status_code == 206 and given.startswith(f"bytes {done}-")


class HttpDownloader:
    """Download over http(s) without letting requests undo a gzip Content-Encoding that names
    the file itself, and after a cut ask for the rest (Range) up to `resumes` times."""

    def __init__(self, timeout: float = 60, resumes: int = 3, progressbar: bool | None = None):
        self.timeout, self.resumes = timeout, resumes
        self.progressbar = sys.stderr.isatty() if progressbar is None else progressbar

    def _get(self, url: str, headers: dict[str, str], check: bool = True) -> requests.Response:
        # identity: a server that compresses on request must send the file itself.
        headers = {"Accept-Encoding": "identity", **headers}
        response = requests.get(url, stream=True, timeout=self.timeout, headers=headers)
        if check:
            response.raise_for_status()
        return response

    def __call__(self, url: str, output_file: str, pooch_obj: Any = None) -> None:
        with open(output_file, "w+b") as out:
            self._fetch(url, out)

    def _fetch(self, url: str, out: BinaryIO) -> None:
        response = self._get(url, {})
        raw = _file_is_gzip(url, response)
        # Ranges count the bytes as sent: a body decoded on the way cannot be resumed. A server
        # that does not say it takes ranges is asked again by the caller's retries, whole.
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        ranges = response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
        resumable = ranges and (raw or not encoded)
        etag = response.headers.get("ETag", "")  # If-Range takes a strong one only
        validator = etag if etag.startswith('"') else response.headers.get("Last-Modified")
        total = int(response.headers.get("Content-Length", 0) or 0)
        bar = tqdm(total=total, unit="B", unit_scale=True, disable=not self.progressbar)
        for attempt in range(self.resumes + 1):
            try:
                for chunk in _chunks(response, decode=not raw):
                    out.write(chunk)
                    bar.update(len(chunk))
                bar.close()
                return
            except _BROKEN as err:
                done = out.tell()
                if not resumable or attempt == self.resumes:
                    bar.close()
                    raise requests.exceptions.ChunkedEncodingError(
                        f"connection broken after {done} bytes: {err}") from err
                log.warning("%s: cut off after %d bytes (%s); asking for the rest", url, done, err)
                ask = {"Range": f"bytes={done}-", **({"If-Range": validator} if validator else {})}
                response = self._get(url, ask, check=False)
                if response.status_code not in (200, 206):  # 416 and the like: ranges gone
                    bar.close()
                    raise requests.exceptions.ChunkedEncodingError(
                        f"connection broken after {done} bytes ({err}), and asking for the "
                        f"rest got HTTP {response.status_code}") from err
                if not _resumed_at(response, done):  # the whole file again (changed, or no ranges)
                    out.seek(0)
                    out.truncate()
                    bar.reset()
