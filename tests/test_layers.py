"""unet/common is the bottom layer: its modules import no other unet package (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

COMMON = REPO / "unet" / "common"


def _unet_imports(path: Path) -> list[str]:
    """Dotted unet modules a file imports, nested (function-level) imports included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "unet"]
        elif (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
              and node.module.split(".")[0] == "unet"):
            found.append(node.module)
            # `from unet import cache` imports the package unet.cache
            found += [f"unet.{a.name}" for a in node.names if node.module == "unet"]
    return found


def test_common_imports_nothing_above_it():
    """A helper in common/ importing cache/ (or dataset/, train/ ...) ties the bottom layer to
    a stage: a rule that needs only common/ would rerun on that stage's edits."""
    upward = sorted(f"{path.relative_to(REPO)}: {name}" for path in COMMON.glob("*.py")
                    for name in _unet_imports(path)
                    if name != "unet" and not name.startswith("unet.common"))
    assert not upward, "unet/common imports a higher layer:\n" + "\n".join(upward)
