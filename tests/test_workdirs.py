"""The workflow run from another folder: `snakemake -s path/to/Snakefile`, `--directory`."""

from __future__ import annotations

from tests.conftest import copy_workflow, snakemake


def test_the_default_config_is_found_from_another_folder(tmp_path):
    """`snakemake -s wf/Snakefile` elsewhere (or `-d elsewhere`) stopped with 'Workflow
    defines configfile config/config.yaml but it is not present': the default config was
    looked for in the working directory, not beside the Snakefile."""
    wf = copy_workflow(tmp_path / "wf")
    elsewhere = tmp_path / "my project"
    elsewhere.mkdir()
    for args in (["-s", str(wf / "Snakefile")], ["-d", str(elsewhere)]):
        where = elsewhere if args[0] == "-s" else wf
        proc = snakemake(where, *args, "-n", "--cores", "1", check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "results/synthetic/baseline/model.pt" in proc.stdout


def test_a_tilde_in_a_config_path_is_the_home_folder(tmp_path, monkeypatch):
    """dataset.local.path: ~/data was read as the home folder's, but split.test_ids: ~/ids.txt
    and train.init_from: ~/model.pt were refused as 'names no file (<workdir>/~/ids.txt)'."""
    from unet.config.experiments import normalise_config

    monkeypatch.setenv("HOME", str(tmp_path))
    config = {"split": {"test_ids": "~/ids.txt", "val_ids": ["~a"], "exclude_ids": []},
              "train": {"init_from": "~/m.pt"},
              "experiments": {"b": {"train": {"init_from": "~/b.pt"}}, "c": None}}
    normalise_config(config)
    assert config["split"]["test_ids"] == str(tmp_path / "ids.txt")
    assert config["split"]["val_ids"] == ["~a"]  # ids, not paths
    assert config["train"]["init_from"] == str(tmp_path / "m.pt")
    assert config["experiments"]["b"]["train"]["init_from"] == str(tmp_path / "b.pt")


def test_a_workflow_in_a_folder_with_braces_is_refused_naming_it(tmp_path):
    """A clone under 'code {fork}/' stopped with "WildcardError in rule plot_results ... 'fork'"
    (run with -s from elsewhere) or "NameError: The name 'fork' is unknown" (Snakemake formats
    the conda: and script: paths with the job's wildcards): now one line, the folder and the fix."""
    wf = copy_workflow(tmp_path / "code {fork}" / "wf")
    elsewhere = tmp_path / "my project"
    elsewhere.mkdir()
    for where, args in ((elsewhere, ["-s", str(wf / "Snakefile")]), (wf, [])):
        proc = snakemake(where, *args, "-n", "--cores", "1", check=False)
        assert proc.returncode != 0
        assert f"the workflow's folder {wf} has {{ or }}" in proc.stderr, proc.stderr[-2000:]
        assert "Wildcard" not in proc.stderr and "NameError" not in proc.stderr


def test_a_missing_relative_data_folder_says_what_it_is_relative_to(tmp_path, monkeypatch):
    """A config in cfg/ naming '../data' (its own folder's neighbour, as most tools read it)
    was refused as 'no such folder (<workdir>/../data)', with no word that relative paths
    start from the working directory, not the config file's folder."""
    import pytest

    from unet.config.checks import check_data
    from unet.config.experiments import ConfigError

    monkeypatch.chdir(tmp_path)
    config = {"dataset": {"source": "local", "local": {"path": "../no data"}},
              "masks": {}}
    with pytest.raises(ConfigError) as err:
        check_data(config)
    assert f"relative to the working directory {tmp_path}" in str(err.value)
    assert "not to the config file's folder" in str(err.value)
