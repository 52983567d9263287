"""Which unet/ files a module imports, so a rule can list them as inputs.

Snakemake does not track imports: a rule names its entry modules (dotted, relative to the
package, e.g. "crf.refine"), and their closure over `unet` imports, with the `__init__.py` of
every package on the way, becomes the rule's `code` input. Editing any of those files reruns
the rule; editing any other file does not.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = "unet"
# Modules that cannot change any output: editing them reruns nothing. Logging only formats
# messages and progress bars; what a step computes never depends on it.
EXEMPT = frozenset({"common.logs"})


# Parsed imports per file, kept with its text: a planning asks for the closure of every rule,
# which share most files; each is parsed once, and again when its text changes. Keyed by the
# text, not (mtime, size): a same-size edit within the filesystem's timestamp step, or a copy
# keeping the mtime, is seen; the read costs microseconds, the parse the time saved.
_CACHE: dict[str, tuple[str, list[tuple[list[str], list[str]]]]] = {}
# Statement fields that hold statements: imports are statements, so expressions (most of a
# tree's nodes) need no visit. match's cases hold their statements in `body` too.
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(nodes: list[ast.AST]) -> Iterator[ast.AST]:
    """Every statement in `nodes`, nested ones (in functions, classes, try, with, ...) too."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        for field in _BODIES:
            todo.extend(getattr(node, field, ()))


def _import_names(path: Path) -> list[tuple[list[str], list[str]]]:
    """(modules, optional names) of each import statement in the file, parsed once a text."""
    text = path.read_text()
    kept = _CACHE.get(str(path))
    if kept is None or kept[0] != text:
        found = []
        for node in _statements(ast.parse(text, filename=str(path)).body):
            if isinstance(node, ast.Import):
                found.append(([a.name for a in node.names], []))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from unet.model import checkpoint` imports the module unet.model.checkpoint;
                # `from unet.model.unet import UNet` names a class, not a module.
                found.append(([node.module], [f"{node.module}.{a.name}" for a in node.names]))
        kept = _CACHE[str(path)] = (text, found)
    return kept[1]


def _imports(path: Path, root: Path) -> set[str]:
    """Dotted names (below `unet`) of the unet modules and packages the file imports."""
    found: set[str] = set()
    for names, optional in _import_names(path):
        for name in names + optional:
            parts = name.split(".")
            if parts[0] != PACKAGE or len(parts) < 2:
                continue
            if name in names or _file(root, parts[1:]) is not None:
                found.add(".".join(parts[1:]))
    return found


def _file(root: Path, parts: list[str]) -> Path | None:
    """unet/a/b.py or unet/a/b/__init__.py for ["a", "b"], or None (a function or class)."""
    base = root.joinpath(PACKAGE, *parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def module_files(names: Iterable[str], root: str | os.PathLike = ".") -> list[str]:
    """Sorted paths of the files of `names` (dotted, below unet), of every unet module they
    import, and of the packages' `__init__.py` on the way; EXEMPT modules are left out."""
    root = Path(root)
    todo, seen, files = list(names), set(), set()
    while todo:
        name = todo.pop()
        if name in seen or name in EXEMPT:
            continue
        seen.add(name)
        parts = name.split(".")
        path = _file(root, parts)
        if path is None:
            raise FileNotFoundError(
                f"{root / PACKAGE / Path(*parts)}.py does not exist (named as a module dependency)"
            )
        files.add(path)
        # Importing unet.a.b runs unet/__init__.py and unet/a/__init__.py first.
        files.update(root / PACKAGE / Path(*parts[:k]) / "__init__.py" for k in range(len(parts)))
        todo.extend(_imports(path, root) - seen)
    return sorted(str(f) for f in files if f.is_file())
