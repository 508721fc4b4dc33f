"""Shared pytest setup: import paths for scripts/ and scripts/train/, one torch thread, the reference vectors."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "train"))

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before torch loads its BLAS: keep the machine usable
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)

VECTORS = os.path.join(ROOT, "tests", "vectors")
CASES = sorted(d for d in os.listdir(VECTORS) if os.path.isfile(os.path.join(VECTORS, d, "step_0")))


@pytest.fixture(params=CASES)
def case(request):
    """Path of one reference case folder (step_0, all_config.yaml, reference.safetensors)."""
    return os.path.join(VECTORS, request.param)
