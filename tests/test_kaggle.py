"""source: kaggle through the official package (a stand-in here): errors that say what to do,
and Carvana's layout into the manifest."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_download import make_zip, png
from unet.dataset.download import download_dataset
from unet.dataset.kaggle import KaggleError


@pytest.fixture
def no_kaggle_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


FAKE_KAGGLE = """
import os, shutil

class KaggleApi:
    def authenticate(self):
        pass

    def competition_download_file(self, competition, file_name, path=None, force=False,
                                  quiet=False):
        shutil.copy(os.path.join(os.environ["FAKE_KAGGLE_FILES"], file_name), path)
"""


@pytest.fixture
def fake_kaggle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable stand-in for the kaggle package that copies files from a folder."""
    pkg = tmp_path / "site" / "kaggle"
    (pkg / "api").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "api" / "__init__.py").write_text("")
    (pkg / "api" / "kaggle_api_extended.py").write_text(FAKE_KAGGLE)
    served = tmp_path / "served"
    served.mkdir()
    monkeypatch.setenv("FAKE_KAGGLE_FILES", str(served))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield served
    for name in [m for m in sys.modules if m == "kaggle" or m.startswith("kaggle.")]:
        del sys.modules[name]


def test_kaggle_missing_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "kaggle", None)  # import kaggle now fails
    with pytest.raises(KaggleError, match="not installed") as err:
        download_dataset(tmp_path / "manifest.json", "kaggle", {})
    assert "pip install kaggle" in str(err.value)


def test_kaggle_missing_token_says_where_it_goes(
    fake_kaggle: Path, no_kaggle_token: Path, tmp_path: Path
) -> None:
    with pytest.raises(KaggleError, match="no Kaggle API credentials") as err:
        download_dataset(tmp_path / "res" / "manifest.json", "kaggle", {})  # Carvana: the default
    msg = str(err.value)
    assert "~/.kaggle/kaggle.json" in msg and "chmod 600" in msg
    assert "https://www.kaggle.com/c/carvana-image-masking-challenge/rules" in msg


def test_kaggle_carvana_layout_into_manifest(
    fake_kaggle: Path, no_kaggle_token: Path, tmp_path: Path
) -> None:
    (no_kaggle_token / ".kaggle").mkdir()
    (no_kaggle_token / ".kaggle" / "kaggle.json").write_text('{"username": "u", "key": "k"}')
    (fake_kaggle / "train.zip").write_bytes(make_zip({"train/c1_01.png": png(9)}))
    (fake_kaggle / "train_masks.zip").write_bytes(make_zip({"train_masks/c1_01_mask.png": png(0)}))
    settings = {
        "images": "train",
        "masks": "train_masks",
        "mask_suffix": "_mask",
        "image_extensions": [".png"],
        "mask_extensions": [".png"],
    }
    manifest = download_dataset(tmp_path / "res" / "manifest.json", "kaggle", settings)
    assert [p["id"] for p in manifest["pairs"]] == ["c1_01"]
    assert [Path(a["file"]).name for a in manifest["archives"]] == ["train.zip", "train_masks.zip"]


def test_another_competition_is_downloaded_not_the_last_ones_files(
    fake_kaggle: Path, no_kaggle_token: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two competitions with the same file names: switching dataset.kaggle.competition must
    download the new one's files, not reuse those of the last one kept in downloads/."""
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    settings = {"images": "train", "masks": "train_masks", "mask_suffix": "_mask",
                "image_extensions": [".png"], "mask_extensions": [".png"], "files": ["t.zip"]}
    for competition, ids in (("comp-a", ["a1", "a2"]), ("comp-b", ["b1"])):
        (fake_kaggle / "t.zip").write_bytes(make_zip(
            {**{f"train/{i}.png": png(9) for i in ids},
             **{f"train_masks/{i}_mask.png": png(0) for i in ids}}))
        manifest = download_dataset(tmp_path / "res" / "manifest.json", "kaggle",
                                    {**settings, "competition": competition})
        assert [p["id"] for p in manifest["pairs"]] == ids
        assert [a["competition"] for a in manifest["archives"]] == [competition]


def test_an_earlier_competitions_downloads_are_named_with_their_size(
    fake_kaggle: Path, no_kaggle_token: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    # Switching competitions (or URL to Kaggle) kept the old downloads without a word, as a
    # changed URL's are no longer.
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    settings = {"images": "train", "masks": "train_masks", "mask_suffix": "_mask",
                "image_extensions": [".png"], "mask_extensions": [".png"], "files": ["t.zip"]}
    (fake_kaggle / "t.zip").write_bytes(blob := make_zip(
        {"train/a.png": png(9), "train_masks/a_mask.png": png(0)}))
    (tmp_path / "res" / "downloads").mkdir(parents=True)
    (tmp_path / "res" / "downloads" / "0123-old.zip").write_bytes(b"x" * 2_000_000)
    download_dataset(tmp_path / "res" / "manifest.json", "kaggle",
                     {**settings, "competition": "comp-a"})
    caplog.clear()
    download_dataset(tmp_path / "res" / "manifest.json", "kaggle",
                     {**settings, "competition": "comp-b"})
    note = [r.getMessage() for r in caplog.records if "names now" in r.getMessage()]
    assert len(note) == 1 and "comp-a" in note[0] and "0123-old.zip" in note[0]
    assert f"{(2_000_000 + len(blob)) / 1e6:.1f} MB" in note[0]
    assert (tmp_path / "res" / "downloads" / "comp-a" / "t.zip").is_file()  # kept


@pytest.mark.parametrize("slug", ["../up", "https://www.kaggle.com/c/carvana-image-masking-challenge"])
def test_a_competition_that_is_no_slug_is_refused_by_key(slug: str, tmp_path: Path) -> None:
    with pytest.raises(KaggleError, match="dataset.kaggle.competition") as err:
        download_dataset(tmp_path / "res" / "manifest.json", "kaggle", {"competition": slug})
    assert "carvana-image-masking-challenge" in str(err.value)  # the slug of the example
    assert not (tmp_path / "up").exists() and not (tmp_path / "res" / "downloads").exists()


class _Refusing:
    """A KaggleApi stand-in whose downloads fail as the kaggle package's do: requests'
    HTTPError (kaggle >= 1.7) or an ApiException with a status (older versions)."""

    def __init__(self, status: int, new_client: bool) -> None:
        self.status, self.new_client = status, new_client

    def competition_download_file(self, *args: object, **kwargs: object) -> None:
        import requests

        if self.new_client:
            response = requests.Response()
            response.status_code = self.status
            raise requests.HTTPError(f"{self.status} Client Error", response=response)
        err = RuntimeError(f"({self.status}) Reason: refused")
        err.status = self.status  # type: ignore[attr-defined]
        raise err


@pytest.mark.parametrize("new_client", [True, False])
@pytest.mark.parametrize(("status", "want"), [
    (401, "kaggle.json"), (403, "/c/carvana-image-masking-challenge/rules"),
    (404, "dataset.kaggle.files")])
def test_a_refused_download_says_what_its_status_means(
    status: int, want: str, new_client: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unet.dataset import kaggle

    monkeypatch.setattr(kaggle, "connect", lambda competition: _Refusing(status, new_client))
    with pytest.raises(KaggleError) as err:
        download_dataset(tmp_path / "manifest.json", "kaggle", {})
    msg = str(err.value)
    assert want in msg and f"Kaggle answered {status}" in msg
    others = {401: "kaggle.json", 403: "/rules", 404: "dataset.kaggle.files"}
    assert not any(hint in msg for code, hint in others.items() if code != status)
