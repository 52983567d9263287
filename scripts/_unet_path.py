"""Put this repository on sys.path, so `import unet` works in any environment the rule runs
in (a conda env from envs/unet.yaml, a container), not only after `pip install -e .`."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
