"""benchmarks/run.py's command line: a mistyped --only name is refused, not an empty table."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import run


def test_only_with_an_unknown_name_is_refused(tmp_path: Path, capsys) -> None:
    # `--only gpu-native` (for gpu_native) ran nothing, printed an empty table and wrote a
    # summary.json without rows, as if every benchmark named had nothing to report
    out = tmp_path / "summary.json"
    with pytest.raises(SystemExit) as err:
        run.main(["--only", "gpu-native", "--json", str(out)])
    assert err.value.code == 2 and not out.exists()
    message = capsys.readouterr().err
    assert "gpu-native" in message and "gpu_native" in message
