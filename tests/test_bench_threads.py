"""benchmarks/bench_threads.py's table, without timing anything."""

from __future__ import annotations

from benchmarks.bench_threads import _rows, splits


def test_every_split_has_a_ratio_on_a_machine_of_more_than_2_cores():
    """The ratios were to (1 thread, 1 worker), which splits() times only on 1 or 2 cores: on a
    4- or 16-core machine every row's ratio was empty, the comparison the benchmark is for."""
    for cores in (1, 2, 4, 16):
        best = {("resize, aug none", s): (1.0 + k, 0.1) for k, s in enumerate(splits(cores))}
        rows = _rows(best, cores, 4, 2, {"loadavg": [0.0]}, 1)
        assert len(rows) == len(best) and all(r["ratio"] is not None for r in rows), cores
        assert sum(r["ratio"] == 1.0 for r in rows) == 1  # the baseline's own row
