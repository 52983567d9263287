"""Without pydensecrf (pydensecrf2 failed to build: no compiler, an unsupported Python), the
CRF is refused naming the package and crf.enabled, and the steps that only read CRF settings
(finalize_masks with crf.enabled: false) still import."""

from __future__ import annotations

import os
import subprocess
import sys

# pydensecrf made unimportable, as where it is not installed
_BLOCK = "import sys; sys.modules['pydensecrf'] = None; sys.modules['pydensecrf.densecrf'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _BLOCK + code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=120)


def test_finalize_imports_without_pydensecrf():
    done = _run("import unet.postprocess.finalize, unet.crf.tune, unet.crf.refine\n"
                "from unet.crf.dense import chosen_params\n"
                "print(chosen_params({'iterations': 3}, None).iterations)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"


def test_the_crf_without_pydensecrf_names_the_package_and_the_key():
    done = _run("import numpy as np\nfrom unet.crf.dense import refine\n"
                "refine(np.zeros((8, 8), np.uint8), np.full((2, 8, 8), 0.5, np.float32))")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "pydensecrf2" in last and "crf.enabled: false" in last, last


def test_tuning_without_pydensecrf_is_refused_before_any_image_is_read(tmp_path):
    done = _run("from unet.crf.tune import crf_confusions\n"
                "crf_confusions({'pairs': []}, {'class_values': [0, 255]}, 'none', ['gone'], None)")
    assert "pip install pydensecrf2" in done.stderr.strip().splitlines()[-1], done.stderr
