"""Qt views and controllers. They present and drive `vae_desktop.core`; no training logic lives here."""

from __future__ import annotations

import sys

_CUDA_RUNTIME = "cuda.bindings.runtime"


def _import_pyqtgraph_without_its_cuda_probe() -> None:
    """Import pyqtgraph with `cuda.bindings.runtime` made unimportable for that one import.

    pyqtgraph's RawImageWidget imports the CUDA runtime bindings when they are installed (CUDA builds
    of torch bring them) for a GPU drawing path this app never uses: ~45 ms of CPU and an `ldconfig`
    run before the first window can paint. Afterwards the module imports normally again (torch may use it).
    """
    if "pyqtgraph" in sys.modules or _CUDA_RUNTIME in sys.modules:
        return
    sys.modules[_CUDA_RUNTIME] = None  # type: ignore[assignment]  # the import system's "not importable" mark
    try:
        import pyqtgraph  # noqa: F401
    finally:
        if sys.modules.get(_CUDA_RUNTIME, False) is None:
            del sys.modules[_CUDA_RUNTIME]


_import_pyqtgraph_without_its_cuda_probe()
