"""Rules list the unet/ modules they import: each rule's closure is pinned exactly."""

import re

import pytest

from tests.conftest import REPO
from tests.rule_modules import DOWNLOAD, RULES, SOURCES
from unet.deps import EXEMPT, module_files


def _modules(paths: list[str]) -> set[str]:
    """'.../unet/a/b.py' -> 'a.b', package __init__ files left out."""
    rel = (p.split("/unet/", 1)[1] for p in paths if not p.endswith("__init__.py"))
    return {r[:-3].replace("/", ".") for r in rel}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_depends_on_exactly_its_modules(rule):
    entries, expected = RULES[rule]
    assert _modules(module_files(entries, root=REPO)) == expected


@pytest.mark.parametrize("rule", list(RULES))
def test_rules_name_the_entry_modules_pinned_here(rule):
    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    block = re.search(rf"^(?:rule|use rule) {rule}\b.*?(?=^\S|\Z)", text, re.M | re.S)
    assert block, f"rule {rule} not found in rules/"
    named = re.search(r"modules\(([^)]*)\)", block.group(0))
    assert named, f"rule {rule} lists no modules"
    assert tuple(re.findall(r'"([^"]+)"', named.group(1))) == RULES[rule][0]


def test_package_init_files_are_inputs():
    files = module_files(["crf.refine"], root=REPO)
    assert str(REPO / "unet" / "__init__.py") in files
    assert str(REPO / "unet" / "crf" / "__init__.py") in files
    assert str(REPO / "unet" / "common" / "__init__.py") in files


def test_logging_is_exempt():
    # Logging cannot change an output: editing it must rerun nothing.
    for entries, _ in RULES.values():
        assert not any(p.endswith("common/logs.py") for p in module_files(entries, root=REPO))


def test_every_unet_module_a_script_imports_is_an_input_of_its_rule():
    # scripts/predict_folder.py imports unet.infer.predict, which predict_folder's code
    # inputs left out: editing it reran nothing.
    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    for block in re.findall(r"^rule \w+:.*?(?=^\S|\Z)", text, re.M | re.S):
        script = re.search(r'script:\s*"\.\./scripts/(\w+\.py)"', block)
        named = re.search(r"modules\(([^)]*)\)", block)
        if not script or not named:
            continue
        source = (REPO / "scripts" / script.group(1)).read_text()
        imported = set(re.findall(r"^\s*from unet\.([\w.]+) import", source, re.M)) - EXEMPT
        closure = _modules(module_files(re.findall(r'"([^"]+)"', named.group(1)), root=REPO))
        assert imported <= closure, (script.group(1), imported - closure)


# Steps that read probabilities and masks with numpy alone: importing torch (through
# common.probs) cost each of their processes about 500 MB and a second or two of start-up.
NUMPY_ONLY = ("tune_crf", "refine_crf", "finalize_masks", "evaluate_masks", "plot_results",
              "preprocess", "split_dataset", "cross_validation", "compare_experiments")


@pytest.mark.parametrize("script", NUMPY_ONLY)
def test_numpy_only_steps_do_not_import_torch(script):
    import subprocess
    import sys

    source = (REPO / "scripts" / f"{script}.py").read_text()
    modules = re.findall(r"^from (unet[\w.]*) import", source, re.M)
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False", f"{script} imports torch"


@pytest.mark.parametrize("source", SOURCES)
def test_download_code_inputs_are_the_configured_sources_only(source):
    # rules/data.smk lists dataset.download and dataset.synthetic, whose closure held every
    # source's code: editing archive or HTTP code regenerated the synthetic data set.
    from unet.dataset.sources import SOURCE_MODULES

    entries = ("dataset.download", *SOURCE_MODULES[source])
    assert _modules(module_files(entries, root=REPO)) == DOWNLOAD | SOURCES[source]


def test_a_source_runs_no_unet_code_outside_its_code_inputs(tmp_path):
    # The source's module is imported by name (sources.SOURCE_MODULES): what actually loads
    # must stay within what the rule lists, or an edit to it would rerun nothing.
    import subprocess
    import sys

    from unet.dataset.sources import SOURCE_MODULES

    code = ("import sys; from unet.dataset.download import download_dataset; "
            f"download_dataset({str(tmp_path / 'm.json')!r}, 'synthetic', dict(count=2, "
            "width=16, height=16, seed=0, classes=1)); "
            "print(' '.join(m[5:] for m in sys.modules if m.startswith('unet.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    allowed = _modules(module_files(("dataset.download", *SOURCE_MODULES["synthetic"]),
                                    root=REPO)) | EXEMPT | {"common", "dataset"}
    assert set(out.stdout.split()) <= allowed


def _loaded_by(code: str) -> set[str]:
    """The unet modules (dotted, below unet) a fresh interpreter holds after running `code`."""
    import subprocess
    import sys

    code += "\nimport sys; print(' '.join(m[5:] for m in sys.modules if m.startswith('unet.')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.splitlines()[-1].split())


def test_predict_folder_runs_no_unet_code_outside_its_code_inputs(tmp_path):
    # Checked like a download: an ensemble of two models predicting a new image within its
    # region of interest, with the script's imports, loads only what rules/predict.smk lists,
    # so that editing any module the step runs reruns it (a function-level or by-name import
    # of a module outside the closure would not).
    import numpy as np
    from PIL import Image

    from tests.test_predict_batches import _model

    folder, out = tmp_path / "new", tmp_path / "out"
    (folder / "fov").mkdir(parents=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)).save(
        folder / "a.png")
    roi = np.zeros((20, 30), np.uint8)
    roi[5:15, 5:25] = 255
    Image.fromarray(roi).save(folder / "fov" / "a.png")
    models = [str(_model(tmp_path / f"{k}.pt")) for k in range(2)]
    loaded = _loaded_by(
        "from unet.infer.predict import PredictSettings\n"
        "from unet.infer.predict_folder import predict_folder\n"
        f"predict_folder({models!r}, {str(folder)!r}, {str(out)!r}, "
        "PredictSettings(device='cpu'), roi='fov/{id}.png')")
    listed = _modules(module_files(RULES["predict_folder"][0], root=REPO))
    packages = {m.rsplit(".", 1)[0] for m in listed if "." in m}
    assert (out / "a.png").is_file() and "infer.predict_folder" in loaded
    assert loaded <= listed | EXEMPT | packages, sorted(loaded - listed - EXEMPT - packages)


def test_the_test_extra_holds_the_plugin_addopts_use():
    # addopts run the suite on pytest-xdist's workers (-n auto): without the plugin in the
    # `test` extra a fresh `pip install -e '.[test]'` stopped at "unrecognized arguments: -n".
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    addopts = project["tool"]["pytest"]["ini_options"]["addopts"].split()
    test_extra = project["project"]["optional-dependencies"]["test"]
    extra = {re.split(r"[<>=!~ ]", d)[0] for d in test_extra}
    assert "-n" in addopts and "loadgroup" in addopts and "pytest-xdist" in extra


@pytest.mark.parametrize("extra", ["hdf5", "nifti", "volumes", "zarr"])
def test_the_test_extra_holds_each_unstack_reader(extra):
    # A reader's tests skip where its package is missing: in CI `pip install -e '.[test]'`
    # must install it, or they never run (OME-Zarr's tests need zarr, '.[zarr]' for users).
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    names = {k: {re.split(r"[<>=!~ ]", d)[0] for d in v} for k, v in extras.items()}
    assert extra in names and names[extra] <= names["test"], extra


@pytest.fixture(scope="module")
def shared_value() -> int:
    return 1


def test_a_module_fixture_and_the_slurm_cluster_each_run_in_one_worker(request, shared_value):
    # Under --dist loadgroup a test without a group went to any worker: each worker that drew
    # one of a file's tests ran its module fixtures (a pipeline run, the SLURM cluster) again.
    from tests import test_slurm

    assert request.node.get_closest_marker("xdist_group").args == ("test_deps.py",)
    alone = [i for i in request.session.items if i.name == "test_logging_is_exempt"]
    assert [i.get_closest_marker("xdist_group") for i in alone] == [None]  # spread one by one
    groups = [m.args for m in test_slurm.pytestmark if m.name == "xdist_group"]
    assert groups == [("slurm",)]
    if getattr(request.config.option, "loadgroup", False):  # in a worker: the key xdist
        # schedules by (pytest 9 ignored the one xdist 3.8 wrote: every group was spread)
        assert request.node.nodeid.endswith("@test_deps.py"), request.node.nodeid
