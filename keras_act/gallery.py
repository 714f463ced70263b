"""A gallery of the activation curves (and their derivatives, by autodiff) as a PNG."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from keras import ops

from keras_act._autodiff import value_and_derivative
from keras_act.figure_files import check_x_range, output_path, pyplot, save_figure
from keras_act.registry import get, names

# Softmax maps a vector to probabilities: its panel shows one of them as a function of one logit.
SOFTMAX_TITLE = "softmax: p0 of logits [x, 0]"


def curve(activation_id: str) -> Callable[[Any], Any]:
    """The activation as a function of one scalar per element, for plotting.

    Softmax is shown as the first probability of the two logits ``[x, 0]``.

    Examples:
        >>> import numpy as np
        >>> float(curve("softmax")(np.zeros((1, 1), "float32"))[0, 0])
        0.5
    """
    layer = get(activation_id)
    if activation_id == "softmax":
        return lambda x: layer(ops.concatenate([x, ops.zeros_like(x)], axis=-1))[:, :1]
    return layer


def plot_gallery(
    ids: Sequence[str] | None = None,
    path: str | Path = "keras_act_gallery.png",
    derivative: bool = False,
    x_range: tuple[float, float] = (-5.0, 5.0),
) -> Path:
    """Draw each activation (and optionally its autodiff derivative) in a grid; save a PNG.

    Each panel plots f(x) (and f'(x)) against x; softmax, a function of a whole vector, is shown
    as the first probability of the two logits ``[x, 0]``, which is ``sigmoid(x)``. Needs
    matplotlib (``pip install "keras-act[plot]"``).

    Examples:
        >>> plot_gallery(["relu", "swish"], "gallery.png", derivative=True)  # doctest: +SKIP
        PosixPath('gallery.png')
    """
    ids = list(ids) if ids else names()
    unknown = [i for i in ids if i not in names()]
    if unknown:
        raise ValueError(f"Unknown activation ids {unknown}; valid ids are: {', '.join(names())}.")
    low, high = check_x_range(x_range, "plot_gallery")
    path = output_path(path)
    plt = pyplot()

    x = np.linspace(low, high, 401, dtype="float32").reshape(-1, 1)
    columns = min(4, len(ids))
    rows = math.ceil(len(ids) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for ax, activation_id in zip(axes.flat, ids):
        y, dy = value_and_derivative(curve(activation_id), x)
        ax.axhline(0, color="0.8", linewidth=0.8)
        ax.axvline(0, color="0.8", linewidth=0.8)
        ax.plot(x[:, 0], y[:, 0], color="tab:blue", label="f(x)")
        if derivative:
            ax.plot(x[:, 0], dy[:, 0], color="tab:orange", linestyle="--", label="f'(x)")
        ax.set_title(SOFTMAX_TITLE if activation_id == "softmax" else activation_id, fontsize=10)
        ax.set_xlabel("x", fontsize=8)
        ax.set_ylabel("f(x), f'(x)" if derivative else "f(x)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(ids) :]:
        ax.axis("off")
    if derivative:
        axes.flat[0].legend(loc="upper left", fontsize="small")
    figure.suptitle("keras_act activations" + (" and derivatives" if derivative else ""))
    figure.tight_layout()
    return save_figure(figure, path)
