"""Rules list the unet/ modules they import: the closure must be complete and exact."""

from tests.conftest import REPO
from unet.deps import module_files


def _names(paths):
    return {p.rsplit("/", 1)[-1][:-3] for p in paths}


def test_closure_follows_imports_transitively():
    names = _names(module_files(["refine"], root=REPO))
    assert {"refine", "crf", "imageio", "fileio", "logs"} <= names
    assert "model" not in names and "train" not in names


def test_training_does_not_depend_on_crf():
    names = _names(module_files(["train"], root=REPO))
    assert {"train", "model", "losses", "data", "checkpoint"} <= names
    assert "crf" not in names and "refine" not in names


def test_unknown_module_is_an_error(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "a.py").write_text("from unet.missing import x\n")
    try:
        module_files(["a"], root=tmp_path)
    except FileNotFoundError as err:
        assert "missing.py" in str(err)
    else:
        raise AssertionError("expected FileNotFoundError")
