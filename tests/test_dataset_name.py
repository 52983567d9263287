"""A user's data set under the built-in one's name, set by hand (the fixture's derived one, as
for source synthetic): its manifest, split, cache and models went into resources/synthetic/ and
results/synthetic/, over the built-in run's. An unset name: tests/test_dataset_autoname.py."""

from pathlib import Path

import pytest

from unet.config.experiments import ConfigError, check_config
from unet.config.names import folder_left_unread


def _source(config: dict, tmp: str, source: str) -> None:
    config["dataset"]["source"] = source
    if source == "local":
        folder = Path(tmp, "isbi2012-membrane")
        folder.mkdir()
        config["dataset"]["local"]["path"] = f"{folder}/"
    elif source == "url":
        config["dataset"]["url"] = {"archives": [{"url": "https://host/dl/Kvasir SEG.tar.gz?x=1"}]}
    else:
        config["dataset"]["kaggle"] = {"competition": "airbus-ship-detection"}


@pytest.mark.parametrize(("source", "suggested"), [
    ("local", "dataset.name: isbi2012-membrane"),
    ("url", "dataset.name: Kvasir-SEG"),
    ("kaggle", "dataset.name: airbus-ship-detection"),
])
def test_a_source_of_ones_own_under_the_built_in_name_is_refused(config, tmp_path, source,
                                                                  suggested):
    _source(config, str(tmp_path), source)
    with pytest.raises(ConfigError) as err:
        check_config(config)
    message = str(err.value)
    assert "dataset.name" in message and f"dataset.source is {source}" in message
    assert suggested in message and "resources/synthetic/" in message


def test_the_name_in_another_case_is_refused_too(config, tmp_path):
    """macOS's and Windows's file systems take resources/Synthetic/ for resources/synthetic/."""
    _source(config, str(tmp_path), "kaggle")
    config["dataset"]["name"] = "Synthetic"
    with pytest.raises(ConfigError, match="dataset.name Synthetic"):
        check_config(config)


@pytest.mark.parametrize("source", ["local", "url", "kaggle"])
def test_a_named_data_set_passes(config, tmp_path, source):
    _source(config, str(tmp_path), source)
    config["dataset"]["name"] = "mine"
    check_config(config)


def test_the_built_in_run_keeps_its_name(config):
    check_config(config)  # source synthetic, name synthetic: the default run
    config["dataset"]["name"] = "synthetic-small"  # a profile of the built-in shapes
    check_config(config)


def test_an_unnameable_source_gets_a_plain_suggestion(config, tmp_path):
    config["dataset"].update(source="url", url={"archives": [{"url": "https://host/"}]})
    with pytest.raises(ConfigError, match="dataset.name: my-data"):
        check_config(config)


def test_a_folder_under_source_synthetic_is_told_the_keys_it_needs(config, tmp_path):
    """The refusal of a dataset.local.path left under source synthetic said to set
    dataset.source: local alone, which a built-in name set by hand then refused in turn; and,
    once an unset name was derived from the folder, to set a name too, which it no longer
    needs. Checked as the Snakefile does, before the name is derived."""
    _source(config, str(tmp_path), "local")
    config["dataset"].update(source="synthetic", name=None)  # unset: derived from the folder
    assert "set dataset.source: local to use it" in folder_left_unread(config["dataset"])
    config["dataset"]["name"] = "Synthetic"  # set by hand: refused under source local too
    assert ("dataset.source: local and dataset.name: isbi2012-membrane to use it"
            in folder_left_unread(config["dataset"]))
    with pytest.raises(ConfigError, match="dataset.name: isbi2012-membrane to use it"):
        check_config(config)
    config["dataset"]["name"] = "mine"  # named already: only the source is missing
    with pytest.raises(ConfigError, match="set dataset.source: local to use it"):
        check_config(config)


@pytest.mark.parametrize(("name", "shared"), [
    ("predict", "the folders of new images to predict"),
    ("Encoders", "the pretrained encoder weights"),
])
def test_a_name_of_a_folder_resources_holds_for_itself_is_refused(config, tmp_path, name,
                                                                 shared):
    """resources/predict/ holds predict_folder's new images, resources/encoders/ the encoder
    weights: a data set of either name was downloaded among them."""
    _source(config, str(tmp_path), "kaggle")
    config["dataset"]["name"] = name
    with pytest.raises(ConfigError, match=rf"dataset.name {name}: resources/{name.lower()}/"
                                          rf" holds {shared}"):
        check_config(config)
