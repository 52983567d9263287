"""Fetch archives with pooch (sha256-checked, atomic) and unpack them into one checked tree."""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pooch
import requests

from unet.common.fileio import umask
from unet.dataset.archives import Archive, extract_archives
from unet.dataset.http_get import MAX_WAIT, HttpDownloader, retry_after

log = logging.getLogger(__name__)

RETRY_WAIT = 2.0  # seconds before the first retry, doubled each time; tests set it to 0
CUT = requests.exceptions.ChunkedEncodingError  # what requests raises for a short body
# pooch's own INFO lines advise arguments of pooch.retrieve; ours name the config keys instead.
pooch.get_logger().setLevel(logging.WARNING)


class DownloadError(ValueError):
    """A download failed, was cut off, or does not match its configured sha256."""


def _key(i: int, field: str) -> str:
    return f"dataset.url.archives[{i}].{field}"


def pinned(given: str | None) -> str | None:
    """A configured sha256 as 64 lowercase hex digits (None for none): the schema also takes
    it in upper case (PowerShell's Get-FileHash) and after 'sha256:' (pooch, Zenodo)."""
    given = (given or "").strip().lower().removeprefix("sha256:")
    return given or None


def file_url_path(url: str) -> Path | None:
    """The local path a file:// URL names (None for other schemes). url2pathname decodes the
    %-escapes itself: decoding before it too read file:///d/e%2520f.zip (Path('/d/e%20f.zip')
    .as_uri()) as /d/e f.zip."""
    parsed = urlparse(url)
    return Path(url2pathname(parsed.path)) if parsed.scheme == "file" else None


def _drop_outdated_copy(url: str, copy: Path) -> None:
    """Remove the kept copy of a file:// archive that was saved over since it was copied
    (another size, or modified or replaced after the copy), so that it is copied again. The
    status change time counts too: cp -p and rsync -a give a new version its own older date,
    but its ctime is when it was put there."""
    source = file_url_path(url)
    if source is None or not copy.is_file() or not source.is_file():
        return
    was, now = copy.stat(), source.stat()
    changed = max(now.st_mtime_ns, now.st_ctime_ns)
    if was.st_size != now.st_size or changed >= was.st_mtime_ns:
        log.info("%s changed since it was copied: copying it again", source)
        copy.unlink()


def _copy_file_url(url: str, output_file: str, pooch_obj: Any = None) -> None:
    """A pooch downloader for file:// URLs (pooch knows only http, ftp, sftp and doi)."""
    host, path = urlparse(url).netloc, file_url_path(url)
    if host not in ("", "localhost"):  # file://data/x.zip: 'data' is a host, not a folder
        raise FileNotFoundError(
            f"{host!r} is read as a host name, not a folder: a file:// URL holds an absolute "
            "path after a third slash, e.g. file:///home/me/data/x.zip"
        )
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder: name the archive file in it")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist" + _unescaped_hint(url))
    shutil.copyfile(path, output_file)


def _unescaped_hint(url: str) -> str:
    """Where a file:// URL's path was cut at a '#' or '?' (a fragment or query in a URL) and
    the whole of it names a file: how to write it."""
    whole = Path(url2pathname(url.split("://", 1)[1].removeprefix("localhost")))
    if ("#" not in url and "?" not in url) or not whole.is_file():
        return ""
    return (f"; '#' and '?' end a URL's path: write them %23 and %3F, as in "
            f"{whole.as_uri()}")


def _downloader(url: str) -> Any:
    scheme = urlparse(url).scheme
    if scheme == "file":
        return _copy_file_url
    if scheme in ("http", "https"):
        # A live bar on a terminal only; in a Snakemake job the log gets start and end lines.
        return HttpDownloader(timeout=60)
    raise DownloadError(
        f"{url}: unsupported URL scheme {scheme!r}; use http://, https:// or file://"
    )


def _seen_digest(message: str) -> str:
    # pooch's mismatch message reads "... expected sha256:<want> but got <seen>. ..."
    found = re.search(r"got ([0-9a-fA-F]{64})", message)
    return found.group(1).lower() if found else f"another digest ({message})"


def _retrieve(i: int, url: str, sha256: str | None, folder: Path, retries: int) -> Path:
    """Download one URL into `folder` (pooch: temp file, sha256 check, rename), with retries."""
    known = f"sha256:{sha256}" if sha256 else None
    # pooch's own name: md5 of the whole URL + its basename, so a changed URL is a new file
    # and never reuses an older archive of the same basename.
    fname = pooch.utils.unique_file_name(url)
    _drop_outdated_copy(url, folder / fname)
    for attempt in range(retries + 1):
        wait_for: float | None = None  # what a 429 or 503 answer's Retry-After asks for
        log.info("fetching %s as %s (reused if already complete)", url, folder / fname)
        try:
            path = pooch.retrieve(
                url, known_hash=known, fname=fname, path=folder, downloader=_downloader(url)
            )
            os.chmod(path, 0o666 & ~umask())  # pooch's temporary file was 0600
            return Path(path)
        except ValueError as err:
            # pooch raises a bare ValueError on a sha256 mismatch (its temporary file is gone);
            # requests' InvalidURL and friends are ValueErrors too.
            if sha256 and "hash" in str(err) and not isinstance(err, requests.RequestException):
                raise DownloadError(
                    f"{url}: sha256 mismatch: {_key(i, 'sha256')} expects {sha256} but the "
                    f"download has {_seen_digest(str(err))}; this download was not kept. "
                    f"If the archive changed on purpose, put the new digest in "
                    f"{_key(i, 'sha256')} (or null to accept what is served and record its "
                    "digest); otherwise check the URL."
                ) from err
            raise DownloadError(f"{url}: {err}; fix {_key(i, 'url')}") from err
        except FileNotFoundError as err:
            raise DownloadError(f"{url}: {err}; fix {_key(i, 'url')}") from err
        except requests.HTTPError as err:
            status = err.response.status_code if err.response is not None else 0
            asked = retry_after(err.response)
            if asked is not None and asked > MAX_WAIT:
                raise DownloadError(
                    f"{url}: the server answered {status} and asks to come back in {asked:.0f} s; "
                    "run again then"
                ) from err
            if (status < 500 and status != 429) or attempt == retries:  # 429: a rate limit
                raise DownloadError(
                    f"{url}: the server answered {err}; check {_key(i, 'url')}"
                ) from err
            failure: Exception = err
            wait_for = asked
        except (requests.RequestException, OSError) as err:
            # A connection cut mid-file raises here: urllib3 (>= 2) compares the bytes read with
            # Content-Length. pooch wrote to a temporary file that it removes.
            what = "was cut off mid-file" if isinstance(err, CUT) else "failed"
            if attempt == retries:
                raise DownloadError(
                    f"{url}: the download {what} after {retries + 1} attempt(s) ({err}); no "
                    f"partial file was kept. Check the network and {_key(i, 'url')}, then run "
                    "again."
                ) from err
            failure = err
        wait = RETRY_WAIT * 2**attempt if wait_for is None else wait_for
        log.warning("%s: %s; retrying in %.0f s (%d left)", url, failure, wait, retries - attempt)
        time.sleep(wait)
    raise AssertionError("unreachable")


def fetch_archives(urls: list[dict], dest: Path, retries: int = 3) -> list[dict]:
    """Download `urls` ({url, sha256}) into dest/downloads, unpack them all into dest/data.

    Returns one record per archive, {url, sha256 seen, file}, so the manifest keeps the digest
    even when the config gave none.
    """
    dest = Path(dest)
    folder = dest / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    # pooch's temporary files (tmpXXXX) that a killed run left; pooch's own names never
    # start with "tmp" (they start with a hex digest).
    for stale in folder.glob("tmp*"):
        stale.unlink(missing_ok=True)
    records, archives = [], []
    for i, entry in enumerate(urls):
        url, sha256 = entry["url"], pinned(entry.get("sha256"))
        # pooch answers with an absolute path; keep it relative like the manifest's pairs.
        path = folder / _retrieve(i, url, sha256, folder, retries).name
        seen = sha256 or pooch.file_hash(str(path), alg="sha256")
        if not sha256:
            log.info("%s: sha256 %s (set %s to pin it)", url, seen, _key(i, "sha256"))
        records.append({"url": url, "sha256": seen, "file": str(path)})
        archives.append(Archive(path, seen, f"{_key(i, 'url')} ({url})"))
    old = unlisted(folder, {Path(r["file"]).name for r in records})
    note_leftovers(folder, old, "no archive in dataset.url.archives")
    extract_archives(archives, dest / "data")
    return records


def unlisted(folder: Path, current: set[str]) -> list[Path]:
    """The downloads (files, or a competition's folder) in `folder` not named in `current`."""
    return sorted(p for p in folder.iterdir() if p.name not in current
                  and not p.name.startswith((".", "tmp")))


def note_leftovers(folder: Path, old: list[Path], what: str) -> None:
    """Name the downloads that `what` names no more (an earlier URL's or competition's), with
    their size: kept, since a user may go back to them, but no longer taking space unseen."""
    if old:
        size = sum(f.stat().st_size for p in old for f in ([p] if p.is_file() else p.rglob("*"))
                   if f.is_file())
        log.warning("%s also holds %d download(s) that %s names now (%.1f MB, from earlier "
                    "settings): %s; remove them if they are not wanted", folder, len(old), what,
                    size / 1e6, ", ".join(p.name for p in old))
