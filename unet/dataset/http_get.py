"""A pooch downloader for http(s) that keeps the file as served."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO
from urllib.parse import urlparse

import requests
import urllib3
from tqdm import tqdm

CHUNK = 1 << 20
# The file itself is gzip: a Content-Encoding header on it (Apache's AddEncoding x-gzip .gz,
# nginx's gzip_static) describes the file, not a compression for the transfer.
_GZIP_NAMES = (".gz", ".tgz", ".gzip")
_GZIP_TYPES = ("application/gzip", "application/x-gzip", "application/x-tgz")
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


class HttpDownloader:
    """Download over http(s) without letting requests undo a gzip Content-Encoding that names
    the file itself."""

    def __init__(self, timeout: float = 60, progressbar: bool | None = None):
        self.timeout = timeout
        self.progressbar = sys.stderr.isatty() if progressbar is None else progressbar

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        # identity: a server that compresses on request must send the file itself.
        headers = {"Accept-Encoding": "identity", **headers}
        response = requests.get(url, stream=True, timeout=self.timeout, headers=headers)
        response.raise_for_status()
        return response

    def __call__(self, url: str, output_file: str, pooch_obj: Any = None) -> None:
        with open(output_file, "w+b") as out:
            self._fetch(url, out)

    def _fetch(self, url: str, out: BinaryIO) -> None:
        response = self._get(url, {})
        raw = _file_is_gzip(url, response)
        total = int(response.headers.get("Content-Length", 0) or 0)
        with tqdm(total=total, unit="B", unit_scale=True, disable=not self.progressbar) as bar:
            try:
                for chunk in response.raw.stream(CHUNK, decode_content=not raw):
                    out.write(chunk)
                    bar.update(len(chunk))
            except _BROKEN as err:
                raise requests.exceptions.ChunkedEncodingError(
                    f"connection broken after {out.tell()} bytes: {err}") from err
