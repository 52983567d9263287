#!/usr/bin/env bash
# One GPU session in one command, from the repository root:
#
#     bash benchmarks/gpu_session.sh            # OUT=<folder> to choose where results go
#
# Needs python3 with torch (CUDA), torchvision, numpy, scipy, pillow, pyyaml, tqdm, pytest; no
# Snakemake, pydensecrf, pooch or network. About 4-5 minutes on an H100, capped at 9.5 by the
# timeouts below. Writes to $OUT: env.txt, pytest_gpu.txt, pytest_gpu.xml, bench.txt,
# bench.json. A failing test does not stop the benchmarks; the exit status is non-zero if either
# step failed.
set -u -o pipefail # no -e: every step runs; pipefail: `cmd | tee` keeps cmd's status
cd "$(dirname "$0")/.."
OUT=${OUT:-results/gpu_session}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

{
    date -u
    nvidia-smi -L || echo "nvidia-smi failed"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
    python3 - <<'EOF'
import importlib.util, platform, shutil
import torch, torchvision
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda,
      "cudnn", torch.backends.cudnn.version(), "torchvision", torchvision.__version__)
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0), "capability", torch.cuda.get_device_capability(0),
          "bf16 native", torch.cuda.is_bf16_supported(including_emulation=False))
else:
    print("torch sees NO CUDA device: the GPU tests will skip")
print("triton", importlib.util.find_spec("triton") is not None, "cc", shutil.which("gcc") or shutil.which("clang"))
EOF
} 2>&1 | tee "$OUT/env.txt"

# GPU tests first (they build their own tiny data), then the CPU training tests as a cross-check
# on this machine's torch. faulthandler dumps the stacks of a test stuck for 120 s.
timeout -k 10 270 python3 -m pytest tests/test_gpu.py tests/test_train.py tests/test_model.py \
    -q -rs -p no:cacheprovider --durations=15 -o faulthandler_timeout=120 \
    --junitxml "$OUT/pytest_gpu.xml" 2>&1 | tee "$OUT/pytest_gpu.txt"
tests=$?

# train: train() vs a bare loop (on CUDA here: config.yaml's device auto, AMP, channels_last);
# gpu: 960x640 images/s through the loader vs a resident batch, with carvana.yaml's settings;
# gpu_native: 512x512 patches of 1918x1280 images at scale 0.5, and sliding-window prediction.
timeout -k 10 300 python3 -m benchmarks.run --only train gpu gpu_native --json "$OUT/bench.json" 2>&1 |
    tee "$OUT/bench.txt"
bench=$?

echo "pytest exit $tests, benchmarks exit $bench (124: timed out)" | tee -a "$OUT/bench.txt"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
