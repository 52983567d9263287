"""Shared fixtures: the repository root, the default config, real data, a scratch copy of the
workflow, and tiny synthetic pairs and caches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from snakemake.utils import validate

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.config.names import name_dataset
from unet.dataset.download import download_dataset
from unet.dataset.split import make_split

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
SCHEMA_PATH = REPO / "config/schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
WORKFLOW_FILES = (
    "Snakefile", "rules", "scripts", "envs", "config", "profiles", "report", "unet",
    "tests/configs",
)


def copy_workflow(dest: Path) -> Path:
    """Copy what Snakemake needs into `dest`, so tests never touch the repo's results/."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake from this interpreter's environment in `workdir`, capturing output."""
    exe = Path(sys.executable).with_name("snakemake")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([str(exe), *args], cwd=workdir, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


TINY = "tests/configs/tiny.yaml"


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    """Whether the test uses a module- (or class- or package-) scoped fixture."""
    defs = getattr(item, "_fixtureinfo", None)
    defs = defs.name2fixturedefs.values() if defs else ()
    return any(d and d[-1].scope in ("module", "class", "package") for d in defs)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under pytest-xdist's --dist loadgroup, the tests of a file that share a module fixture
    (a pipeline run, a trained model) go to one worker, so that it runs once, not in each
    worker that drew one of them; the others spread one by one (a whole file in one worker
    left the other idle while test_bench_smoke.py ran). Marked as collected: before any
    pytest_collection_modifyitems, xdist's included."""
    if item.get_closest_marker("xdist_group") is None and _shares_a_module_fixture(item):
        item.add_marker(pytest.mark.xdist_group(item.path.name))


@pytest.hookimpl(trylast=True)  # after xdist's, which wrote the groups where pytest 9 reads none
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under --dist loadgroup, the group as the node id's '@<group>' suffix, the key xdist
    schedules by: pytest-xdist 3.8 sets item._nodeid, which pytest 9 no longer reads (it reads
    item._id), so every group was ignored and each worker ran the module fixtures (the SLURM
    cluster twice: 417 s and 172 s of set-up in one CI run)."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodes import coerce_node_id  # pytest 9's; older pytest keeps xdist's suffix

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A workflow copy on which the tiny pipeline has run once (shared: tests must not change
    its outputs, and must restore any file they touch)."""
    wd = copy_workflow(tmp_path_factory.mktemp("wf"))
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY)
    return wd


def slices(folder: Path) -> list[Path]:
    """The files `unet unstack` wrote to `folder`, sorted, less its spacing.csv table."""
    return sorted(p for p in folder.iterdir() if p.name != "spacing.csv")


def real_data(name: str) -> Path:
    """Path of a real data set under ../shared/datasets; skip outside CI when it is absent."""
    path = DATASETS / name
    if not path.is_dir():
        if os.environ.get("CI"):
            raise AssertionError(f"{path} is missing; CI must provide ../shared/datasets")
        pytest.skip(f"{path} not present")
    return path


PAIR_SIZE = (40, 30)  # (w, h) of write_pair's images


def write_pair(
    root: Path,
    i: int,
    image: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    values: tuple[int, ...] = (0, 255),
) -> dict:
    """img{i}.png and msk{i}.png in `root` (random RGB, random `values`, PAIR_SIZE, seeded by
    `i`, unless given); returns the pair's manifest entry, id p{i}."""
    rng = np.random.default_rng(i)
    w, h = PAIR_SIZE
    img, msk = root / f"img{i}.png", root / f"msk{i}.png"
    if image is None:
        image = rng.integers(0, 255, (h, w, 3), np.uint8)
    if mask is None:
        mask = rng.choice(np.array(values, np.uint8), (h, w))
    Image.fromarray(image).save(img)
    Image.fromarray(mask).save(msk)
    return {"id": f"p{i}", "image": str(img), "mask": str(msk), "size": list(PAIR_SIZE)}


def write_inputs(root: Path, pairs: list[dict]) -> None:
    """root/manifest.json of `pairs` and root/split.json: two train, one val, the rest test."""
    write_json(root / "manifest.json", {"pairs": pairs})
    ids = [p["id"] for p in pairs]
    write_json(root / "split.json", {"train": ids[:2], "val": ids[2:3], "test": ids[3:]})


@pytest.fixture(scope="session")
def synthetic_cache(tmp_path_factory) -> Callable[..., Path]:
    """A factory: (name, data, size, split_seed=0, folds=0) -> the cache folder of `data`
    (dataset.synthetic settings, one class) split 60/20/20 and preprocessed to `size` (w, h)."""

    def build(
        name: str, data: dict, size: tuple[int, int], split_seed: int = 0, folds: int = 0
    ) -> Path:
        root = tmp_path_factory.mktemp(name)
        manifest = download_dataset(root / "manifest.json", "synthetic", {**data, "classes": 1})
        ids = [p["id"] for p in manifest["pairs"]]
        write_json(root / "split.json", make_split(ids, split_seed, 0.2, 0.2, folds=folds))
        settings = PreprocessSettings(width=size[0], height=size[1])
        preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)
        return root / "cache"

    return build


@pytest.fixture(scope="session")
def cli_model(synthetic_cache) -> Path:
    """A tiny model.pt (depth 2, one epoch on 8 synthetic 60x40 images) for `unet` commands."""
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    cache = synthetic_cache("cli", {"count": 8, "width": 60, "height": 40, "seed": 3}, (48, 32))
    root = cache.parent
    train_unet(cache, root / "model.pt", root / "history.csv", root / "ck",
               {"depth": 2, "base_width": 4}, TrainSettings(epochs=1, batch_size=2, device="cpu"))
    return root / "model.pt"


@pytest.fixture
def legend_labels(monkeypatch) -> list[str]:
    """The labels of every legend a figure draws from now on (the overlays' class names)."""
    import matplotlib.figure

    labels: list[str] = []
    real = matplotlib.figure.Figure.legend

    def legend(self, *args, **kwargs):
        labels.extend(h.get_label() for h in kwargs["handles"])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "legend", legend)
    return labels


@pytest.fixture
def config() -> dict:
    """config/config.yaml with the schema's defaults (its experiments among them), as the
    Snakefile sees it; a test module may define its own."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(config, str(SCHEMA_PATH))
    name_dataset(config)  # dataset.name unset: synthetic, derived as the Snakefile does
    return config


@pytest.fixture
def disk_events(monkeypatch) -> list[tuple]:
    """Every os.fsync (the path synced) and os.replace (source, target), in order."""
    events: list[tuple] = []
    sync, replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        sync(fd)

    def rename(src, dst):
        events.append(("replace", str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", rename)
    return events


@pytest.fixture
def band_decodes(monkeypatch) -> list:
    """The paths decoded by unet.common.bands.bands_and_alpha from here on (raw_bands' decode,
    and nodata's, which imports it): to count a scene's decodes."""
    import unet.common.bands as bands
    import unet.common.nodata as nodata

    decoded, raw = [], bands.bands_and_alpha

    def counted(path):
        decoded.append(path)
        return raw(path)
    monkeypatch.setattr(bands, "bands_and_alpha", counted)
    monkeypatch.setattr(nodata, "bands_and_alpha", counted)
    return decoded


@pytest.fixture
def pil_decodes(monkeypatch) -> list:
    """The files PIL decodes from here on (ImageFile.load with tiles still to read: a header
    read, or a load of pixels already there, is not counted): to count an image's decodes."""
    from PIL import ImageFile

    decoded, raw = [], ImageFile.ImageFile.load

    def counted(self):
        if self.tile:
            decoded.append(str(self.filename))
        return raw(self)
    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return decoded
