"""The time before the first job: planning reads each source and the schema once."""

import ast

import yaml

from tests.conftest import REPO
from tests.rule_modules import RULES
from tests.test_deps import _modules
from unet import deps
from unet.deps import module_files


def _counting(monkeypatch, module, name: str) -> list:
    """Calls of module.name, recorded (arguments) and passed through."""
    calls, real = [], getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_planning_parses_each_module_once(monkeypatch):
    # Every rule's modules(...) re-parsed its whole closure: 361 parses of ~150 files, about
    # a second of every `snakemake -n`, most of it walking the same trees again.
    parses = _counting(monkeypatch, ast, "parse")
    monkeypatch.setattr(deps, "_CACHE", {}, raising=False)
    files = set()
    for entries, _ in RULES.values():
        files.update(module_files(entries, root=REPO))
    assert len(parses) <= len(files)


def test_an_edited_module_is_read_again(tmp_path):
    # Parses are kept per file version: an import added between two calls is seen.
    (tmp_path / "unet").mkdir()
    for name in ("__init__", "b", "c"):
        (tmp_path / "unet" / f"{name}.py").write_text("")
    (tmp_path / "unet" / "a.py").write_text("from unet import b\n")
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", "b"}
    (tmp_path / "unet" / "a.py").write_text("from unet import b\n\n\ndef f():\n    import unet.c\n")
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", "b", "c"}


def test_nested_imports_are_found(tmp_path):
    # Imports in functions, classes, try/except, with and match blocks count like top ones.
    (tmp_path / "unet").mkdir()
    names = "bcdefg"
    for name in ("__init__", *names):
        (tmp_path / "unet" / f"{name}.py").write_text("")
    (tmp_path / "unet" / "a.py").write_text(
        "class K:\n    def f(self):\n        import unet.b\n"
        "try:\n    pass\nexcept ImportError:\n    from unet import c\nelse:\n    import unet.d\n"
        "finally:\n    pass\nwith open('x') as f:\n    if f:\n        from unet import e\n"
        "match 1:\n    case 1:\n        import unet.f\n"
        "async def g():\n    async with x:\n        from unet import g\n")
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", *names}


def test_planning_reads_the_schema_once(monkeypatch):
    # The Snakefile and the settings' defaults (unet.common.schema) each parsed the 500-line
    # config/schema.yaml with PyYAML's pure-Python loader: 0.15 s apiece on every planning.
    from unet.common import schema

    loads = _counting(monkeypatch, yaml, "load")
    monkeypatch.setattr(schema, "_PARSED", {})
    first = schema.schema_document(REPO / "config" / "schema.yaml")
    assert schema.defaults("train")["epochs"] == first["properties"]["train"]["properties"][
        "epochs"]["default"]
    assert len(loads) == 1
    assert "schema_document(" in (REPO / "Snakefile").read_text()  # the Snakefile's read too


def test_a_schema_edited_between_two_plannings_is_read_again(tmp_path):
    # One process planning twice (Snakemake's Python API, a notebook): the Snakefile validated
    # the second run against the first run's schema, refusing a key added since as unknown.
    from unet.common import schema

    path = tmp_path / "schema.yaml"
    path.write_text("properties: {a: {default: 1}}\n")
    assert schema.schema_document(path)["properties"]["a"]["default"] == 1
    path.write_text("properties: {a: {default: 2}}\n")  # same size, same second
    assert schema.schema_document(path)["properties"]["a"]["default"] == 2


def test_a_same_size_edit_keeping_the_mtime_is_read_again(tmp_path):
    # The parse cache was keyed by (path, mtime, size): an edit of equal size inside the
    # filesystem's timestamp step (or a copy keeping the mtime) kept the old imports.
    import os

    (tmp_path / "unet").mkdir()
    for name in ("__init__", "b", "c"):
        (tmp_path / "unet" / f"{name}.py").write_text("")
    a = tmp_path / "unet" / "a.py"
    a.write_text("from unet import b\n")
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", "b"}
    stat = a.stat()
    a.write_text("from unet import c\n")
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _modules(module_files(["a"], root=tmp_path)) == {"a", "c"}
