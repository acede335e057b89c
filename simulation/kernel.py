"""Which month kernel the forecast engine runs: compiled loops (numba) or whole-array numpy.

The one place for the choice (``LLIF_FORECAST_KERNEL``, ``contracts.settings``): ``numba`` by
default when it can be imported, ``numpy`` for the readable fallback, which
``simulation/forecast_model.py`` keeps inline beside each kernel call. Both paths draw the same
uniforms from the same streams and make the same comparisons against the same cumulative
probabilities, so a forecast is the same bit for bit whichever runs it
(``tests/unit/test_simulation_kernel.py``); the per-person ``reference.py`` stays the oracle
for both.

numba's compiled code is cached (``cache=True``): in ``NUMBA_CACHE_DIR`` if set; else beside the
source in ``simulation/__pycache__`` (numba's default) where that is writable, so a checkout or an
installed wheel compiles once whatever ``LLIF_HOME`` the runs use; else (a wheel in a read-only
site-packages) under ``LLIF_HOME/cache/numba``, which is always writable. The first process to
use the kernel in a fresh clone compiles it (about 10-20 s of CPU); later ones load the cache
(under a second).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from contracts.settings import forecast_kernel_setting, numba_cache_dir


@lru_cache(maxsize=None)
def _compiled() -> ModuleType | None:
    """``simulation.month_kernel`` with numba's cache pointed at llif's folder, or None when
    numba cannot be imported."""
    try:
        import numba
    except ImportError:
        return None
    if not numba.config.CACHE_DIR and not _writable(Path(__file__).resolve().parent / "__pycache__"):
        folder = numba_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        numba.config.CACHE_DIR = str(folder)
    from simulation import month_kernel

    return month_kernel


def _writable(folder: Path) -> bool:
    """Whether numba's in-tree cache can live in ``folder`` (it creates it when missing)."""
    if folder.is_dir():
        return os.access(folder, os.W_OK | os.X_OK)
    return os.access(folder.parent, os.W_OK | os.X_OK)


def selected() -> ModuleType | None:
    """The compiled month kernel the setting asks for, or None for the numpy path."""
    want = forecast_kernel_setting()
    if want == "numpy":
        return None
    mod = _compiled()
    if mod is None and want == "numba":
        raise ImportError("LLIF_FORECAST_KERNEL=numba but numba cannot be imported (pip install numba)")
    return mod


def name() -> str:
    """``numba`` or ``numpy``: what ``selected()`` runs (for a run's provenance)."""
    return "numpy" if selected() is None else "numba"
