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

import os
from pathlib import Path
from typing import Any

FIGURE_DPI = 110
NOT_APPLICABLE = "n/a"


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (files only, no display needed).

    Example:
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
    """`path` as a Path, after checking that a PNG can be written there (ValueError if not).

    Example:
        >>> output_path("/nonexistent/dir/x.png")
        Traceback (most recent call last):
        ...
        ValueError: `path` /nonexistent/dir/x.png: the folder /nonexistent/dir does not exist; create it or write the figure elsewhere.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{argument}` must be a file path (str or Path), received {type(path).__name__}.")
    path = Path(path)
    folder = path.parent
    if path.suffix.lower() != ".png":
        raise ValueError(f"`{argument}` {path}: figures are written as PNG; give a file name ending in .png.")
    if not folder.is_dir():
        raise ValueError(
            f"`{argument}` {path}: the folder {folder} does not exist; create it or write the figure elsewhere."
        )
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"`{argument}` {path}: no permission to write there; choose a path you can write.")
    return path


def save_figure(figure: Any, path: str | os.PathLike, argument: str = "path") -> Path:
    """Write `figure` as a PNG at `path` (checked by `output_path`), close it, return the path.

    Example:
        >>> figure, ax = pyplot().subplots()  # doctest: +SKIP
        >>> save_figure(figure, "empty.png").name  # doctest: +SKIP
        'empty.png'
    """
    path = output_path(path, argument)
    figure.savefig(path, dpi=FIGURE_DPI)
    pyplot().close(figure)
    return path
