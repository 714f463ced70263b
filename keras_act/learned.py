"""What a network's learnable activations became: find them in a model and draw them next to
their start ("what did my network learn"), optionally over the epochs an `ActivationMonitor`
recorded. Needs matplotlib for the figure.

Example:
    >>> import keras, keras_act
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras_act.Rational("relu"),
    ...                           keras.layers.Dense(1)])
    >>> [layer.activation_id for layer in learned_layers(model)]
    ['rational']
    >>> plot_learned(model, "learned.png")  # doctest: +SKIP
    PosixPath('learned.png')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_act.figure_files import check_x_range, output_path, pyplot, save_figure
from keras_act.layers._parametric import CURVE_GRID, ParametricActivation
from keras_act.matching import nearest

__all__ = ["CURVE_GRID", "MAX_CHANNELS_DRAWN", "learned_layers", "plot_learned"]

# Channels drawn per panel: beyond this many the panel shows the first ones and the mean.
MAX_CHANNELS_DRAWN = 16


def learned_layers(model: keras.Model) -> list[ParametricActivation]:
    """Every learnable keras_act activation in `model` (PReLU, Swish, Rational, ACON, Snake), in
    layer order: activation layers, weight layers' `activation=` and nested models' own. (An
    `activation=` layer is built, and has parameters, once the model has run on data.)

    Examples:
        >>> import keras, keras_act
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=keras_act.PReLU())])
        >>> [type(layer).__name__ for layer in learned_layers(model)]
        ['PReLU']
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"learned_layers: argument `model` must be a keras.Model, received {type(model).__name__}.")
    found: list[ParametricActivation] = []

    def visit(layer: Any) -> None:
        for candidate in (layer, getattr(layer, "activation", None)):
            if isinstance(candidate, ParametricActivation) and candidate not in found:
                found.append(candidate)
        for inner in getattr(layer, "layers", ()):
            visit(inner)

    for layer in model.layers:
        visit(layer)
    return found


def plot_learned(
    model: keras.Model,
    path: str | Path = "learned_activations.png",
    x_range: tuple[float, float] = (-5.0, 5.0),
    history: Sequence[Mapping[str, Any]] | None = None,
) -> Path:
    """Draw each learnable activation of `model` as it is now, next to its start; save a PNG.

    One panel per layer: the start (dashed), the learned curve of each channel (up to
    `MAX_CHANNELS_DRAWN`, with their mean when there are more), and in the title the known
    activation it is now closest to (`keras_act.nearest`). With `history` (an
    `ActivationMonitor(..., learned_curves=True)`'s `curves`) the panels show the mean curve at
    every recorded epoch instead, coloured from early to late.

    Examples:
        >>> plot_learned(model, "learned.png")  # doctest: +SKIP
        PosixPath('learned.png')
    """
    layers = learned_layers(model)
    if not layers:
        raise ValueError(
            "plot_learned: the model has no learnable keras_act activation (PReLU, Swish, "
            "Rational, ACON, Snake); add one, or plot fixed ones with plot_gallery."
        )
    low, high = check_x_range(x_range, "plot_learned")
    path = output_path(path)
    plt = pyplot()
    x = np.linspace(low, high, 201)
    columns = min(3, len(layers))
    rows = math.ceil(len(layers) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(max(5.0, 4.2 * columns), 3.4 * rows), squeeze=False)
    for ax, layer in zip(axes.flat, layers):
        name, kind = layer.name, type(layer).__name__
        untrained = not layer.built
        if untrained:
            # An `activation=` layer is built on the model's first real batch: until then it is
            # its start, drawn from a copy (the model itself is left as it is).
            layer = type(layer).from_config(layer.get_config())
            layer.build((None, 1))
        ax.axhline(0, color="0.8", linewidth=0.8)
        ax.axvline(0, color="0.8", linewidth=0.8)
        ax.plot(x, layer.curve(x, start=True).mean(axis=1), color="black", linestyle="--", label="start")
        records = [r for r in history or () if r["layer"] == layer.name]
        if records:
            colours = plt.get_cmap("viridis")(np.linspace(0, 1, len(records)))
            for record, colour in zip(records, colours):
                ax.plot(
                    record["x"],
                    record["curve"].mean(axis=1),
                    color=colour,
                    linewidth=1.2,
                    label=f"epoch {record['epoch']}" if record in (records[0], records[-1]) else None,
                )
        else:
            learned = layer.curve(x)
            channels = learned.shape[1]
            for index in range(min(channels, MAX_CHANNELS_DRAWN)):
                ax.plot(
                    x,
                    learned[:, index],
                    color="tab:blue",
                    alpha=0.35 if channels > 1 else 1.0,
                    linewidth=1.0,
                    label="learned" + (f" ({channels} channels)" if channels > 1 else "") if index == 0 else None,
                )
            if channels > MAX_CHANNELS_DRAWN:
                ax.plot(x, learned.mean(axis=1), color="tab:red", linewidth=1.5, label="mean of all channels")
        state = "not run yet, at its start" if untrained else "now"
        ax.set_title(f"{name} ({kind})\n{state} nearest:\n{nearest(layer)}", fontsize=9)
        ax.set_xlabel("x", fontsize=8)
        ax.set_ylabel("f(x)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="x-small")  # where it covers the least of the curves
    for ax in list(axes.flat)[len(layers) :]:
        ax.axis("off")
    figure.suptitle("Learned activations\n(dashed: where training started)")
    figure.tight_layout()
    return save_figure(figure, path)
