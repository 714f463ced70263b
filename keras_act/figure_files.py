"""Plotting helpers shared by keras_act's gallery and the advisor's figures (needs matplotlib).

`pyplot()` imports matplotlib on demand on its file-only Agg backend, with a clear message when
it is missing; `output_path()` checks where a figure goes before any work is done; `save_figure()`
writes and closes a figure.

Example:
    >>> plt = pyplot()  # doctest: +SKIP
    >>> figure, ax = plt.subplots()  # doctest: +SKIP
    >>> save_figure(figure, "curve.png")  # doctest: +SKIP
    PosixPath('curve.png')
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from keras_act.paths import as_path, writable_file

FIGURE_DPI = 110
NOT_APPLICABLE = "n/a"


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (files only, no display needed).

    Examples:
        >>> pyplot().get_backend().lower()  # doctest: +SKIP
        'agg'
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('Plotting needs matplotlib: pip install "keras-act[plot]"') from None
    return plt


def output_path(path: str | os.PathLike, argument: str = "path") -> Path:
    """`path` as a Path, after checking that a PNG can be written there (ValueError if not;
    `keras_act.paths.writable_file`).

    Examples:
        >>> output_path("figure.pdf")
        Traceback (most recent call last):
        ...
        ValueError: `path` figure.pdf: figures are written as PNG; give a file name ending in .png.
    """
    path = as_path(path, argument)
    if path.suffix.lower() != ".png" and not path.is_dir():
        raise ValueError(f"`{argument}` {path}: figures are written as PNG; give a file name ending in .png.")
    return writable_file(path, argument)


def check_x_range(x_range: Any, owner: str) -> tuple[float, float]:
    """`x_range` as (low, high): two finite numbers, low < high, whose span is finite too (a span
    past the float range would turn the sampled x into NaN). ValueError naming `owner` if not.

    Examples:
        >>> check_x_range((-1e30, 1e30), "plot_gallery")
        (-1e+30, 1e+30)
        >>> check_x_range((float("-inf"), float("inf")), "plot_gallery")
        Traceback (most recent call last):
        ...
        ValueError: plot_gallery: x_range must be two finite numbers (low, high) with low < high, received (-inf, inf).
    """
    try:
        low, high = (float(v) for v in x_range)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(high - low) and low < high):
        raise ValueError(
            f"{owner}: x_range must be two finite numbers (low, high) with low < high, received {x_range!r}."
        )
    return low, high


def save_figure(figure: Any, path: str | os.PathLike, argument: str = "path") -> Path:
    """Write `figure` as a PNG at `path` (checked by `output_path`), close it, return the path.

    Examples:
        >>> figure, ax = pyplot().subplots()  # doctest: +SKIP
        >>> save_figure(figure, "empty.png").name  # doctest: +SKIP
        'empty.png'
    """
    path = output_path(path, argument)
    figure.savefig(path, dpi=FIGURE_DPI)
    pyplot().close(figure)
    return path
