"""Which month kernel the forecast engine runs: compiled loops (numba) or whole-array numpy.

The one place for the choice (``LLIF_FORECAST_KERNEL``, ``contracts.settings``): ``numba`` by
default when it can be imported, ``numpy`` for the readable fallback, which
``simulation/forecast_model.py`` keeps inline beside each kernel call. Both paths draw the same
uniforms from the same streams and make the same comparisons against the same cumulative
probabilities, so a forecast is the same bit for bit whichever runs it
(``tests/unit/test_simulation_kernel.py``); the per-person ``reference.py`` stays the oracle
for both.

numba's compiled code is cached (``cache=True``) under ``LLIF_HOME/cache/numba`` unless
``NUMBA_CACHE_DIR`` names another folder: a fresh clone compiles once (a few seconds) and later
processes load the cache; an installed wheel's package folder need not be writable.
"""

from __future__ import annotations

from functools import lru_cache
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
    if not numba.config.CACHE_DIR:
        folder = numba_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        numba.config.CACHE_DIR = str(folder)
    from simulation import month_kernel

    return month_kernel


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
