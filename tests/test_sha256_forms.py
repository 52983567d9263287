"""A pinned sha256 as users copy it: upper case (PowerShell's Get-FileHash, certutil) or with
an algorithm prefix (pooch's and Zenodo's 'sha256:...')."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest
import yaml

from tests.test_download import make_zip, pairs
from unet.config.experiments import ConfigError
from unet.config.schema import check_schema
from unet.dataset.url import DownloadError, fetch_archives

ROOT = Path(__file__).resolve().parents[1]
BLOB = make_zip(pairs())
DIGEST = hashlib.sha256(BLOB).hexdigest()
FORMS = [DIGEST.upper(), f"sha256:{DIGEST}", f"SHA256:{DIGEST.upper()}", f" {DIGEST}\n"]
# ids of their own: the digest is of a zip stamped with the time it was made, so ids made of it
# differed between pytest-xdist's workers, which then refused to run
FORM_IDS = ["upper", "prefixed", "prefixed-upper", "padded"]


def _config(sha256: str) -> dict:
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config = copy.deepcopy(config)
    config["dataset"].update(source="url", url={"archives": [{"url": "https://h/a.zip",
                                                              "sha256": sha256}]})
    return config


@pytest.mark.parametrize("given", FORMS, ids=FORM_IDS)
def test_the_schema_takes_a_sha256_in_either_case_or_prefixed(given: str) -> None:
    check_schema(_config(given), yaml.safe_load((ROOT / "config/schema.yaml").read_text()))


@pytest.mark.parametrize("given", ["md5:" + "a" * 32, "a" * 32, "sha256:" + "g" * 64])
def test_other_digests_are_still_refused(given: str) -> None:
    with pytest.raises(ConfigError, match="sha256"):
        check_schema(_config(given), yaml.safe_load((ROOT / "config/schema.yaml").read_text()))


@pytest.mark.parametrize("given", FORMS, ids=FORM_IDS)
def test_a_sha256_in_another_form_pins_the_download(tmp_path: Path, given: str) -> None:
    (tmp_path / "a.zip").write_bytes(BLOB)
    url = (tmp_path / "a.zip").as_uri()
    records = fetch_archives([{"url": url, "sha256": given}], tmp_path / "res")
    assert records[0]["sha256"] == DIGEST  # as the manifest keeps it, whatever the form given
    wrong = given.replace(DIGEST[-4:], "0000").replace(DIGEST[-4:].upper(), "0000")
    (tmp_path / "res" / "downloads").rename(tmp_path / "old")
    with pytest.raises(DownloadError, match=f"expects {DIGEST[:-4]}0000 but the download has "
                                            f"{DIGEST}"):
        fetch_archives([{"url": url, "sha256": wrong}], tmp_path / "res")
