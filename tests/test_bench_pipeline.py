"""benchmarks/bench_pipeline.py --pipeline-results: every rule's benchmark file of every data set
and experiment counts, none hides another's."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_pipeline import read_benchmarks, run


def _tsv(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{seconds}\t0:00:01\t100.0\t{seconds}\n")


def test_same_experiment_name_under_two_data_sets(tmp_path: Path) -> None:
    # results/<dataset>/<experiment>/benchmarks/<rule>.tsv: `baseline` under two data sets
    _tsv(tmp_path / "city" / "baseline" / "benchmarks" / "train_unet.tsv", 10.0)
    _tsv(tmp_path / "voc" / "baseline" / "benchmarks" / "train_unet.tsv", 20.0)
    _tsv(tmp_path / "voc" / "benchmarks" / "preprocess.tsv", 1.0)
    found = read_benchmarks(tmp_path)
    assert sorted(r["s"] for r in found.values()) == [1.0, 10.0, 20.0]
    rows = run(results=tmp_path)
    assert rows[0]["baseline"] == 31.0
    names = [r["name"] for r in rows[1:]]
    assert len(set(names)) == 3
    assert any("city" in n for n in names) and any("voc/baseline" in n for n in names)
