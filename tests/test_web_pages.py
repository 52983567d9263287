"""A URL that answers 200 with a web page in place of the archive (Google Drive's virus-scan
warning, a Dropbox link ending in ?dl=0, a sign-in page): named as a page, with its title."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_download import Server, server  # noqa: F401 (the fixture)
from unet.dataset.archives import ArchiveError
from unet.dataset.url import fetch_archives

DRIVE = (b"\xef\xbb\xbf\n  <!DOCTYPE html><html><head><meta charset='utf-8'>"
         b"<title>Google Drive - Virus scan warning</title></head><body>Download anyway</body>"
         b"</html>")


@pytest.mark.parametrize(("page", "title"), [
    (DRIVE, "'Google Drive - Virus scan warning'"),
    (b"<HTML><HEAD><TITLE>Sign in</TITLE></HEAD></HTML>", "'Sign in'"),
    (b"<html><body>no title</body></html>", ""),
])
def test_a_web_page_served_as_the_archive_is_named_as_one(
    server: Server, tmp_path: Path, page: bytes, title: str  # noqa: F811
) -> None:
    server.files["/data.zip"] = page
    url = f"{server.url}/data.zip"
    with pytest.raises(ArchiveError) as err:
        fetch_archives([{"url": url, "sha256": None}], tmp_path / "res")
    msg = str(err.value)
    assert "a web page" in msg and title in msg and "cut off" not in msg
    assert "direct download link" in msg and url in msg
    assert list((tmp_path / "res" / "downloads").iterdir()) == []  # removed: a rerun fetches
