"""House style that a reviewer would otherwise check by hand: small files, small functions."""

import ast

import pytest

from tests.conftest import REPO

MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60
SOURCES = sorted((REPO / "unet").rglob("*.py"))


def _long_functions(path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_function_over_60_lines(path):
    assert not _long_functions(path), f"split these in {path.relative_to(REPO)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_file_over_300_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_FILE_LINES


def test_every_package_init_is_empty():
    # Re-exports would widen every rule's module dependencies (unet/deps.py).
    for init in (REPO / "unet").rglob("__init__.py"):
        assert not init.read_text().strip() or init.parent == REPO / "unet", init


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def f():\n{body}\n")
    assert _long_functions(tmp_path / "long.py") == ["f (61 lines, line 1)"]
