"""The keys-that-do-not-apply rules are split by the stage that reads them: a rule added for
evaluate (evaluate.iou_threshold, one line among every section's rules in the module training
imported) retrained every model, since rules list their script's unet/ imports as code. The
split keeps every section's params as they were, byte for byte."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import REPO, SCHEMA_PATH
from tests.test_deps import RULES
from unet.common import applicable as new
from unet.config.experiments import _merge, experiment_section
from unet.deps import module_files

BASE = "1421ed1"  # the last commit with every section's rules in common/applicable.py
CONFIGS = [*sorted((REPO / "config").glob("[!s]*.yaml")),  # not schema.yaml
           *sorted((REPO / "tests/configs").glob("*.yaml"))]
# Overrides that put each section in its other modes, so every rule's branches are compared.
MODES = [
    {},
    {"preprocess": {"mode": "native", "intensity_window": [-200, 300]}},
    {"preprocess": {"intensity": "image", "intensity_bands": "each", "intensity_top": 99}},
    {"masks": {"separate": True, "tolerance": 30}},
    {"model": {"arch": "smp"}, "train": {"init_from": "other", "device": "cuda"}},
    {"model": {"arch": "smp"}, "train": {"optimizer": "sgd", "schedule": "plateau",
                                          "device": "cpu", "deterministic": False}},
    {"train": {"augment": {"elastic": True}, "patch": {"size": 32}, "val_every": 2,
               "border_weight": {"objects": 0}}, "predict": {"device": "cuda"}},
    {"crf": {"enabled": False}, "predict": {"device": "cpu"}},
    {"crf": {"tune": {"enabled": False}}, "split": {"test_ids": ["a"], "folds": 3}},
    {"split": {"val_ids": ["b"]}, "postprocess": {"candidates": ["small_objects"]}},
    {"evaluate": {"regions": {"x": [1]}, "objects": True, "iou_threshold": 0.5}},
]


def _old_module():
    """common/applicable.py as it was at BASE (stdlib imports only), or a skip without git."""
    try:
        text = subprocess.run(["git", "show", f"{BASE}:unet/common/applicable.py"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no git history with {BASE} here")
    spec = importlib.util.spec_from_loader("applicable_at_base", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, f"{BASE}:unet/common/applicable.py", "exec"), module.__dict__)
    return module


def _config(path: Path, mode: dict) -> dict:
    """The config as the Snakefile sees it (config.yaml, `path` over it, defaults filled), with
    `mode` over that (unchecked: only the rules read it)."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text()) or {}
    config = _merge(config, yaml.safe_load(path.read_text()) or {})
    validate(config, str(SCHEMA_PATH))
    return _merge(config, mode)


def _outputs(module, config: dict) -> str:
    """Every section's applicable, tracked and untracked values, in order, and the section after
    them (left as given), as JSON text."""
    got = {}
    for exp in config["experiments"]:
        train = experiment_section(config, "train", exp)
        for name in (name for name, value in config.items() if isinstance(value, dict)):
            section = experiment_section(config, name, exp)
            used = module.applicable(name, section, train)
            got[f"{exp}/{name}"] = [used, module.tracked(name, used),
                                    vars(module.untracked(name, section)), section]  # as given
    return json.dumps(got, default=str)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_sections_params_are_unchanged_by_the_split(path):
    old = _old_module()
    for mode in MODES:
        config = _config(path, mode)
        assert _outputs(new, config) == _outputs(old, config), (path.name, mode)


def _closure(rule: str) -> set[str]:
    return {str(Path(p).resolve()) for p in module_files(RULES[rule][0], root=REPO)}


@pytest.mark.parametrize("section", ["evaluate", "crf", "postprocess", "preprocess", "masks",
                                     "split"])
def test_training_code_holds_no_other_sections_rules(section):
    # train_unet's code input: editing evaluate's rules (say) must not retrain a model
    holder = str(Path(inspect.getsourcefile(new.UNUSED[section])).resolve())
    assert holder not in _closure("train_unet"), holder


def test_no_rule_lists_the_gathered_rules():
    # the rules' params read them while planning; no script imports them, so none reruns
    gathered = str(Path(new.__file__).resolve())
    assert not [rule for rule in RULES if gathered in _closure(rule)]
