"""Every benchmark runs to the end at a tiny setting and prints figures: a signature change in
the package (window_bands, writer.add, PatchRows.corner, ...) breaks a test here, not a
maintainer's benchmark run. Sizes are shrunk below --quick; the code path is run()'s own."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.run import MODULES, module, print_table
from tests.conftest import real_data

BENCH = {name: module(name) for name in MODULES}  # benchmarks/run.py's own list of them


def test_every_benchmark_is_registered_and_smoke_tested() -> None:
    # a module missing from run.py's MODULES never ran; one without a test here broke unseen
    files = {p.stem for p in (Path(__file__).parents[1] / "benchmarks").glob("bench_*.py")}
    assert files == set(MODULES.values())
    tests = [name for name in globals() if name.startswith("test_")]
    assert [n for n in MODULES if not any(t.startswith(f"test_{n}") for t in tests)] == []


def _check(rows: list[dict], capsys) -> None:
    """Every row has a figure with a unit (no error row), and the table prints."""
    assert rows
    for r in rows:
        assert r["figure"] is not None and r["unit"], r
        assert not r["note"].startswith(("error", "absent")), r
    print_table(rows)
    assert capsys.readouterr().out.splitlines()[0].split()[:2] == ["name", "figure"]


def _tiny(monkeypatch, module, tmp_path: Path, **sizes) -> None:
    """`module`'s quick sizes replaced by `sizes`, its scratch folder by `tmp_path`."""
    monkeypatch.setattr(module, "scratch", lambda: tmp_path, raising=False)
    for name, value in sizes.items():
        table = getattr(module, name)
        if isinstance(table, dict):
            monkeypatch.setitem(table, True, value)
        else:
            monkeypatch.setattr(module, name, value)


def _small_model(monkeypatch, module, name: str) -> None:
    """`module.name` (carvana_settings or default_settings) with a depth-2, width-4 UNet and
    one loader worker: the benchmark's code path at a fraction of its cost."""
    settings = getattr(module, name)

    def small(*args):
        model, train = settings(*args)
        return {**model, "depth": 2, "base_width": 4}, replace(train, num_workers=1)

    monkeypatch.setattr(module, name, small)


def test_tiles(monkeypatch, tmp_path, capsys) -> None:
    # predict_masks and predict_files in fresh interpreters: window_bands and the writer
    _tiny(monkeypatch, BENCH["tiles"], tmp_path, SIDES=(96, 384))
    rows = BENCH["tiles"].run(quick=True)
    _check(rows, capsys)
    assert "384^2 vs 96^2" in rows[0]["name"] and rows[3]["unit"] == "tiles/s"


def test_pyramid(monkeypatch, tmp_path, capsys) -> None:
    # both reads of one slide in fresh interpreters: level 0 then shrunk, and the level
    _tiny(monkeypatch, BENCH["pyramid"], tmp_path, SIZE=(256, 192))
    rows = BENCH["pyramid"].run(quick=True)
    _check(rows, capsys)
    assert [r["unit"] for r in rows] == ["s", "MB"] and rows[0]["ratio"] > 0


def test_gpu_on_the_cpu(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["gpu"], tmp_path, SIZES=(16, 1))
    _small_model(monkeypatch, BENCH["gpu"], "carvana_settings")
    _check(BENCH["gpu"].run(quick=True, device="cpu"), capsys)


def test_gpu_native_on_the_cpu(monkeypatch, tmp_path, capsys) -> None:
    # PatchRows (corner) through the loader, then predict_masks' sliding window
    _tiny(monkeypatch, BENCH["gpu_native"], tmp_path, SIZES=(12, 1))
    _small_model(monkeypatch, BENCH["gpu_native"], "carvana_settings")
    _check(BENCH["gpu_native"].run(quick=True, device="cpu"), capsys)


def test_gpu_benchmarks_without_cuda_say_absent(monkeypatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    for bench in (BENCH["gpu"], BENCH["gpu_native"]):
        rows = bench.run(quick=True)
        assert rows and all(r["note"].startswith("absent: no CUDA") for r in rows)


def test_threads(monkeypatch, tmp_path, capsys) -> None:
    threads = BENCH["threads"]
    _tiny(monkeypatch, threads, tmp_path, SIZES=(3, 1), PAIRS=8)  # warm-up: 3 steps
    _small_model(monkeypatch, threads, "default_settings")
    monkeypatch.setattr(threads, "splits", lambda cores: [threads.baseline(cores)])
    _check(threads.run(quick=True), capsys)


def test_train(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["train"], tmp_path, SIZES=(16, 2, 1))
    _small_model(monkeypatch, BENCH["train"], "default_settings")
    _check(BENCH["train"].run(quick=True), capsys)


def test_border(monkeypatch, tmp_path, capsys) -> None:
    # the map made in the workers (and, as the baseline, between steps): 64 px patches
    module = BENCH["border"]
    monkeypatch.setattr(module, "ISBI", real_data("isbi2012-membrane"))
    _tiny(monkeypatch, module, tmp_path, SIZES=(1, 1), PATCH=(64, 64), WORKERS=1)
    _small_model(monkeypatch, module, "default_settings")
    _check(module.run(quick=True), capsys)


def test_memory(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["memory"], tmp_path, PAIRS=(12, 24))
    _check(BENCH["memory"].run(quick=True), capsys)


def test_preprocess(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["preprocess"], tmp_path, SIZES=(2, 1))
    _check(BENCH["preprocess"].run(quick=True), capsys)


def test_loading(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["loading"], tmp_path, SIZES=(6, 1), BATCH=2)
    _check(BENCH["loading"].run(quick=True), capsys)


def test_manifest(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["manifest"], tmp_path, SIZES=(2, 1))
    _check(BENCH["manifest"].run(quick=True), capsys)


def test_many_images(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["many_images"], tmp_path, COUNT=4, FILES=6)
    _check(BENCH["many_images"].run(quick=True), capsys)


def test_evaluate(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["evaluate"], tmp_path, SIDES=256)
    _check(BENCH["evaluate"].run(quick=True), capsys)


def test_overlays(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["overlays"], tmp_path, SIDES=256)
    _check(BENCH["overlays"].run(quick=True), capsys)


def test_crf_classes(monkeypatch, capsys) -> None:
    _tiny(monkeypatch, BENCH["crf_classes"], Path(), QUICK_SIZE=(16, 24))
    _check(BENCH["crf_classes"].run(quick=True), capsys)


def test_crf(tmp_path, capsys) -> None:
    out = tmp_path / "crf.json"
    fig = BENCH["crf"].main(["-n", "2", "--height", "32", "--width", "48", "--repeats", "1",
                          "--json", str(out)])
    assert set(fig["seconds"]) == {"baseline", "refine_all_1", "refine_all_2"}
    assert json.loads(out.read_text())["images"] == 2


def test_pipeline_without_opt_in_is_absent() -> None:
    (r,) = BENCH["pipeline"].run(quick=True)
    assert r["note"].startswith("absent: opt-in")


@pytest.mark.workflow
def test_dag(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["dag"], tmp_path, CARVANA_PAIRS=60, SMALL_PAIRS=6)
    rows = BENCH["dag"].run(quick=True)
    _check(rows, capsys)
    assert rows[2]["ratio"] == 1.0  # the job count does not grow with the images


def test_planning(capsys) -> None:
    rows = BENCH["planning"].run(quick=True)
    _check(rows, capsys)
    parses, _, _, files = rows[0]["note"].split()[:4]
    assert int(parses) <= int(files)  # one parse a file a planning


def test_predict_many_compares_the_masks(monkeypatch, tmp_path, capsys) -> None:
    # the check compared every file of the output folders, unet predict's run record
    # (.unet-predict.jsonl, which differs by batch size) among them: identical masks read False
    monkeypatch.setattr(BENCH["predict_many"], "scratch", lambda: tmp_path)
    rows = BENCH["predict_many"].run(quick=True, n=4)
    _check(rows, capsys)
    assert rows[1]["note"] == "masks byte-identical to batch 1: True (4 masks)"


def test_durable(monkeypatch, tmp_path, capsys) -> None:
    _tiny(monkeypatch, BENCH["durable"], tmp_path, SIZES=(4, 32, 1))
    rows = BENCH["durable"].run(quick=True)
    _check(rows, capsys)
    assert rows[1]["unit"] == "ms" and rows[1]["baseline"] > 0
