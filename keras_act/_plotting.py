"""matplotlib, imported on demand with a headless backend and a clear message when missing."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (files only, no display needed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('Plotting needs matplotlib: pip install "keras-act[plot]"') from None
    return plt
