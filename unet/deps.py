"""Which unet/ files a module imports, so a rule can list them as inputs."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "unet"


def _imports(path: Path) -> set[str]:
    """Names of unet modules imported by the file at `path` (top level and in functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == PACKAGE and len(parts) > 1:
                found.add(parts[1])
    return found


def module_files(names: Iterable[str], root: str | os.PathLike = ".") -> list[str]:
    """Sorted paths of unet/<name>.py for `names` and everything they import from unet."""
    pkg = Path(root) / PACKAGE
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = pkg / f"{name}.py"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist (named as a module dependency)")
        seen.add(name)
        todo.extend(_imports(path) - seen)
    return sorted(str(pkg / f"{n}.py") for n in seen)
