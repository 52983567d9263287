"""Config files read as Snakemake reads them, for what YAML drops without a word: a key given
twice in one mapping, of which PyYAML keeps the last (a `train:` section pasted below the
file's own loses the first one's settings)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import yaml

from unet.common.fileio import first_not_utf8
from unet.config.checks import ConfigError


def check_config_files(paths: Iterable[str | os.PathLike]) -> None:
    """Raise ConfigError `<file>: <key path> is given twice (lines a and b)` for the first
    key any of `paths` gives twice in one mapping. A file YAML cannot read is left to
    Snakemake, which refuses it before the Snakefile runs."""
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                root = yaml.compose(f, Loader=yaml.SafeLoader)
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        _check_node(root, "", str(path))


def check_yaml(path: str | os.PathLike) -> None:
    """Raise ConfigError naming `path`, the line and column of what YAML cannot read and the
    fix. Snakemake's own message names neither the file nor the line."""
    try:
        with open(path, encoding="utf-8") as f:
            yaml.compose(f, Loader=yaml.SafeLoader)
    except OSError:
        return  # a missing file: Snakemake names it
    except UnicodeDecodeError:  # saved as ANSI / Latin-1 by a Windows editor
        # decoded whole again: the reader's error counts from its 8 KB chunk, not the file
        raw = Path(path).read_bytes()
        if (bad := first_not_utf8(raw)) is None:  # saved again, as UTF-8, since
            return
        at, line = bad
        raise ConfigError(
            f"{path}, line {line}: byte {raw[at]:#x} is not UTF-8, which YAML "
            "files are read as (saved as ANSI or Latin-1?): save the file as UTF-8") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        opened = err.context_mark  # where the bracket or block it could not close began
        apart = opened and mark and opened.line != mark.line
        since = f" at line {opened.line + 1}" if apart else ""
        what = "; ".join(x for x in (err.context and err.context + since, err.problem) if x)
        raise ConfigError(
            f"{path}{where}: YAML cannot read it ({what}): check the indentation there (spaces "
            "only, each key of a section indented alike) and the brackets and quotes before it"
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: YAML cannot read it ({err}): fix the file") from None


def _check_node(node, prefix: str, path: str) -> None:
    """Walk `node` (a composed YAML node), its mappings' keys once each."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_node(item, f"{prefix}{i}.", path)
    if not isinstance(node, yaml.MappingNode):
        return
    lines: dict[str, int] = {}
    for key, value in node.value:
        name = str(key.value)
        line = key.start_mark.line + 1
        if isinstance(key, yaml.ScalarNode) and name in lines:
            raise ConfigError(
                f"{path}: {prefix}{name} is given twice (lines {lines[name]} and {line}); YAML "
                "keeps only the last, so the first one's settings would be lost: merge them "
                "into one"
            )
        lines[name] = line
        _check_node(value, f"{prefix}{name}.", path)
