"""How unet/deps.py resolves a module's imports, and that the conda environment the rules run
in holds every dependency."""

import re

import pytest

from tests.conftest import REPO
from tests.test_deps import _modules
from unet.deps import module_files


def test_from_package_import_module_is_followed(tmp_path):
    for folder in ("unet", "unet/model"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "unet/model/checkpoint.py").write_text("X = 1\n")
    (tmp_path / "unet/a.py").write_text("from unet.model import checkpoint\n")
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", "model.checkpoint"}


def test_unknown_module_is_an_error(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "a.py").write_text("from unet.missing import x\n")
    with pytest.raises(FileNotFoundError, match="missing"):
        module_files(["a"], root=tmp_path)


def test_the_conda_environment_holds_every_dependency():
    # `snakemake --sdm conda` runs each rule in envs/unet.yaml; tifffile and imagecodecs, which
    # every image read imports, were missing from it, so every rule failed there.
    import tomllib

    import yaml

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "envs" / "unet.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    have = {re.split(r"[<>=!~ ]", p)[0].lower() for p in pip}
    runner = {"snakemake", "pygments", "jsonschema"}  # the workflow's own, not the jobs'
    need = {re.split(r"[<>=!~ ]", d)[0].lower() for d in project["dependencies"]} - runner
    assert need <= have, f"missing from envs/unet.yaml: {sorted(need - have)}"
