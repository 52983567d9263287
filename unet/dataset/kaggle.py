"""Kaggle competition files (Carvana by default) through the official `kaggle` package."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pooch

from unet.dataset.archives import Archive, extract_archives
from unet.dataset.url import note_leftovers, unlisted

log = logging.getLogger(__name__)

CARVANA = "carvana-image-masking-challenge"
CARVANA_FILES = ("train.zip", "train_masks.zip")


class KaggleError(RuntimeError):
    """The kaggle package, its credentials, or the competition's rules are not in place."""


def how_to(competition: str) -> str:
    """What a user must do once before Kaggle lets this workflow download `competition`."""
    return (
        f"To download {competition} from Kaggle: (1) install the official client into this "
        f"environment: {sys.executable} -m pip install kaggle; (2) create an API token on "
        "kaggle.com (Settings > API > Create New Token) and save the kaggle.json it gives you "
        "as ~/.kaggle/kaggle.json, then chmod 600 ~/.kaggle/kaggle.json (or set KAGGLE_USERNAME "
        "and KAGGLE_KEY, or KAGGLE_CONFIG_DIR to the folder holding kaggle.json); (3) with the "
        f"same account, accept the competition rules at https://www.kaggle.com/c/{competition}"
        "/rules. Or download the files yourself and use dataset.source: url with file:// URLs."
    )


def _credentials() -> str | None:
    """Where the kaggle package will find credentials, or None when there are none."""
    env = os.environ
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME/KAGGLE_KEY"
    if env.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    if env.get("KAGGLE_CONFIG_DIR"):
        folders = [Path(env["KAGGLE_CONFIG_DIR"])]
    else:
        xdg = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        folders = [Path.home() / ".kaggle", xdg / "kaggle"]
    for folder in folders:
        for name in ("kaggle.json", "access_token"):
            if (folder / name).is_file():
                return str(folder / name)
    return None


def connect(competition: str) -> Any:
    """An authenticated KaggleApi, or a KaggleError saying what to set up."""
    if importlib.util.find_spec("kaggle") is None:
        raise KaggleError(f"the kaggle package is not installed. {how_to(competition)}")
    # Checked before the import: importing kaggle authenticates, and some versions exit.
    if _credentials() is None:
        raise KaggleError(f"no Kaggle API credentials found. {how_to(competition)}")
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi

        api = KaggleApi()
        api.authenticate()
    except (Exception, SystemExit) as err:
        raise KaggleError(f"Kaggle authentication failed ({err}). {how_to(competition)}") from err
    return api


def _meaning(err: Exception, competition: str, name: str) -> str:
    """What a failed download's HTTP status means and what to do: requests' HTTPError
    (kaggle >= 1.7) carries it in .response, older clients' ApiException in .status."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    status = status or getattr(err, "status", None)
    rules = f"https://www.kaggle.com/c/{competition}/rules"
    if status == 401:
        return ("Kaggle answered 401: it refused the API token (wrong or expired); create a new "
                "one on kaggle.com (Settings > API > Create New Token) and save it as "
                "~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY).")
    if status == 403:
        return (f"Kaggle answered 403: accept the competition's rules at {rules} with the "
                "account of the API token, then run again.")
    if status == 404:
        return (f"Kaggle answered 404: no competition {competition!r} with a file {name!r}; "
                "check dataset.kaggle.competition and dataset.kaggle.files.")
    return (f"A 401 means the API token is wrong or expired, a 403 that the rules are not "
            f"accepted yet ({rules}), a 404 that the competition or file name is wrong "
            "(dataset.kaggle). Run again to retry.")


def _download(api: Any, competition: str, name: str, folder: Path) -> Path:
    """Download one competition file into `folder`, renamed into place only when complete."""
    final = folder / name
    if final.is_file():
        return final
    for stale in folder.glob(f".{name}.*.part"):  # what a killed run left
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=folder))
    try:
        log.info("downloading %s from Kaggle competition %s", name, competition)
        api.competition_download_file(
            competition, name, path=str(tmp), force=True, quiet=not sys.stderr.isatty()
        )
        got = [p for p in tmp.iterdir() if p.is_file()]
        if len(got) != 1:
            raise KaggleError(
                f"Kaggle competition {competition}: expected one file for {name}, got "
                f"{sorted(p.name for p in got)}; check dataset.kaggle.files"
            )
        os.replace(got[0], final)
    except KaggleError:
        raise
    except Exception as err:
        raise KaggleError(
            f"downloading {name} from Kaggle competition {competition} failed ({err}). "
            f"{_meaning(err, competition, name)}"
        ) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def fetch_competition(competition: str, files: list[str], dest: Path) -> list[dict]:
    """Download `files` of `competition` into dest/downloads/<competition> and unpack them
    into dest/data."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", competition):
        raise KaggleError(
            f"dataset.kaggle.competition {competition!r} is not a competition's slug: give the "
            f"last part of its address kaggle.com/c/<slug>, e.g. {CARVANA}"
        )
    # A folder per competition: files are reused by name, and competitions share names
    # (train.zip), so another competition must never find the last one's files.
    folder = Path(dest) / "downloads" / competition
    folder.mkdir(parents=True, exist_ok=True)
    api = connect(competition)
    records, archives = [], []
    for name in files:
        path = _download(api, competition, name, folder)
        digest = pooch.file_hash(str(path), alg="sha256")
        records.append({"competition": competition, "file": str(path), "sha256": digest})
        archives.append(Archive(path, digest, f"Kaggle competition {competition} file {name}"))
    old = unlisted(folder.parent, {competition}) + unlisted(folder, set(files))
    note_leftovers(folder.parent, old, "no file of dataset.kaggle")
    extract_archives(archives, Path(dest) / "data")
    return records

