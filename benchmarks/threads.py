"""One thread for every math library, float64 in JAX.

:func:`configure_threads` must run before NumPy, PyTorch or JAX is imported: ``run.py``
and ``firstgrad.py`` call it first thing (this module imports nothing heavy).
"""

import os

THREAD_VARS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu",
    "JAX_ENABLE_X64": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def configure_threads() -> None:
    """One thread everywhere; float64 in JAX. Call before importing numpy/torch/jax."""
    for k, v in THREAD_VARS.items():
        os.environ[k] = v
