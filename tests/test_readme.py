"""The README's YAML examples are configs a user can paste: each parses and passes the schema
(a bare {id} in a YAML list once made one unreadable)."""

from __future__ import annotations

import re

import jsonschema
import pytest
import yaml

from tests.conftest import REPO

BLOCKS = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
SCHEMA = yaml.safe_load((REPO / "config/schema.yaml").read_text())


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_is_a_valid_config(block):
    config = yaml.safe_load(block)
    assert isinstance(config, dict) and config
    jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)
