"""Figures of the diagnostics: per layer (`plot_diagnostics`), over epochs (`plot_history`), and
of a `confirm()` ranking (`plot_ranking`).

Needs matplotlib (``pip install "keras-act[plot]"``).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keras_act.figure_files import NOT_APPLICABLE, output_path, pyplot, save_figure

from .diagnostics import SiteDiagnostic

# The "n/a for ..." note's characters per line: a panel of a 13-inch, three-panel figure.
NOTE_WIDTH = 40
# Layers per row of the legend below the panels.
LEGEND_COLUMNS = 6
# (attribute, panel title, y-axis label, scale, what the measure applies to); "auto": log where
# the values span at least `LOG_SCALE_SPAN`, else linear from 0 (see `scale_for`).
METRICS = (
    ("dead_fraction", "dead units", "fraction of the layer's units", "linear", "ReLU-family layers"),
    (
        "saturated_fraction",
        "saturated units",
        "fraction of the layer's units",
        "linear",
        "sigmoid/tanh/softsign layers",
    ),
    ("grad_norm", "kernel gradient norm", "||d loss / d kernel||", "auto", "layers with a kernel"),
)
# A log axis only for values that span a decade or more: on a narrow range (norms 0.733-0.748)
# it zooms in so far that a 2% difference looks like a factor of 20.
LOG_SCALE_SPAN = 10.0


def scale_for(scale: str, values: Sequence[float | None]) -> str:
    """The y scale of a panel: `scale`, or for "auto" log when the positive finite values span at
    least `LOG_SCALE_SPAN` (max / min), else linear.

    Examples:
        >>> scale_for("auto", [0.733, 0.748, None]), scale_for("auto", [1e-7, 0.5])
        ('linear', 'log')
    """
    if scale != "auto":
        return scale
    positive = [v for v in values if v is not None and 0 < v < float("inf")]
    return "log" if positive and max(positive) >= LOG_SCALE_SPAN * min(positive) else "linear"


def plot_diagnostics(diagnostics: Any, path: str | Path, title: str | None = None) -> Path:
    """Draw dead and saturated fractions and gradient norms per layer into a PNG.

    Each bar carries its value; a measure that does not apply to a layer (dead units of a tanh
    layer, say) is marked "n/a" rather than drawn as an empty 0.

    Args:
        diagnostics: an `Advice` computed with data, or its list of `SiteDiagnostic` rows.
        path: the PNG to write (its folder must exist).

    Examples:
        >>> import keras, numpy as np
        >>> from keras_act.advisor import advise
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
        ...                           keras.layers.Dense(1)])
        >>> advice = advise(model, x=np.ones((8, 3)), y=np.zeros(8))
        >>> plot_diagnostics(advice, "/tmp/diagnostics.png").name  # doctest: +SKIP
        'diagnostics.png'
    """
    rows: Sequence[SiteDiagnostic] = getattr(diagnostics, "diagnostics", diagnostics)
    if not rows:
        raise ValueError(
            "plot_diagnostics: no diagnostics to draw; call advise(model, x=..., y=...) with sample data first."
        )
    path = output_path(path)
    plt = pyplot()
    labels = [f"{row.layer}\n{row.activation}" for row in rows]
    figure, axes = plt.subplots(1, 3, figsize=(max(10.0, 0.7 * len(rows) * 3), 4.0))
    for axis, (key, title_, ylabel, scale, applies_to) in zip(axes, METRICS):
        values = [getattr(row, key) for row in rows]
        positions = range(len(rows))
        scale = scale_for(scale, values)
        if scale == "log":
            floor = min([v for v in values if v] or [1e-30])
            heights = [v if v else floor for v in values]
        else:
            heights = [v or 0.0 for v in values]
        bars = axis.bar(positions, heights, color=["tab:gray" if v is None else "tab:blue" for v in values])
        axis.set_yscale(scale)
        fraction = key != "grad_norm"
        if scale == "linear":
            axis.set_ylim(0, 1.08 if fraction else 1.15 * max([v for v in values if v] or [1.0]))
        for bar, value in zip(bars, values):
            text = NOT_APPLICABLE if value is None else f"{value:.2f}" if fraction else f"{value:.3g}"
            axis.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height() if value else 0),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color="tab:gray" if value is None else "black",
            )
        axis.set_title(f"{title_}\n(applies to {applies_to})", fontsize=9)
        axis.set_ylabel(ylabel)
        axis.set_xticks(positions, labels, rotation=90, fontsize=7)
    figure.suptitle(title or "Activation diagnostics per layer (layer / activation)")
    figure.tight_layout()
    return save_figure(figure, path)


def plot_history(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Draw how each layer's figures evolved over the epochs (`ActivationMonitor.history`).

    A panel names the layers its measure does not apply to ("n/a"), instead of leaving them out
    silently.

    Examples:
        >>> history = [{"epoch": 1, "layer": "dense", "dead_fraction": None,
        ...             "saturated_fraction": 0.1, "grad_norm": 0.5}]
        >>> plot_history(history, "/tmp/history.png").name  # doctest: +SKIP
        'history.png'
    """
    if not history:
        raise ValueError("plot_history: the history is empty; train with the monitor first.")
    path = output_path(path)
    plt = pyplot()
    layers = list(dict.fromkeys(record["layer"] for record in history))
    epochs_seen = sorted({record["epoch"] for record in history})
    # One colour per layer in every panel, so that one legend, below the panels, serves all three
    # (a legend inside a panel covers its curves once there are a few layers).
    palette = plt.get_cmap("tab10" if len(layers) <= 10 else "tab20")
    color_of = {layer: palette(index % palette.N) for index, layer in enumerate(layers)}
    legend_rows = math.ceil(len(layers) / LEGEND_COLUMNS)
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.0 + 0.2 * legend_rows))
    for axis, (key, title_, ylabel, scale, applies_to) in zip(axes, METRICS):
        scale = scale_for(scale, [record[key] for record in history])
        absent = []
        for layer in layers:
            points = [(r["epoch"], r[key]) for r in history if r["layer"] == layer and r[key] is not None]
            if not points:
                absent.append(layer)
                continue
            epochs, values = zip(*points)
            floor = min([v for v in values if v] or [1e-30])
            axis.plot(
                epochs,
                [v or floor for v in values] if scale == "log" else values,
                marker="o",
                markersize=3,
                color=color_of[layer],
                label=layer,
            )
        axis.set_yscale(scale)
        if scale == "linear" and key != "grad_norm":
            axis.set_ylim(-0.02, 1.02)
        elif scale == "linear":
            axis.set_ylim(0, None)
        # The epochs, also on a panel with nothing to draw (whose axis would otherwise run 0-1).
        axis.set_xlim(epochs_seen[0] - 0.5, epochs_seen[-1] + 0.5)
        if absent:
            shown = ", ".join(absent[:6]) + (f" and {len(absent) - 6} more" if len(absent) > 6 else "")
            axis.text(
                0.5,
                0.5,
                textwrap.fill(f"{NOT_APPLICABLE} for {shown} (applies to {applies_to})", NOTE_WIDTH),
                transform=axis.transAxes,
                ha="center",
                va="center",
                fontsize=8,
                color="tab:gray",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},  # legible over a curve
            )
        axis.set_title(title_)
        axis.set_xlabel("epoch")
        axis.set_ylabel(ylabel)
    handles = [plt.Line2D([], [], color=color_of[layer], marker="o", markersize=3) for layer in layers]
    figure.legend(handles, layers, loc="lower center", ncol=min(len(layers), LEGEND_COLUMNS), fontsize=7)
    figure.suptitle("Activation diagnostics during training")
    figure.tight_layout(rect=(0, (0.1 + 0.2 * legend_rows) / figure.get_figheight(), 1, 1))
    return save_figure(figure, path)


def plot_ranking(result: Any, path: str | Path) -> Path:
    """Draw a `confirm()` ranking (mean ± std of the objective per configuration) into a PNG.

    The y axis names the objective and its direction ("lower is better" for a loss).

    Examples:
        >>> from keras_act.advisor.verdict import rank
        >>> result = rank({"relu + he_normal": [0.3, 0.32], "tanh + glorot_uniform": [0.4, 0.38]},
        ...               ("relu", "he_normal"), None, higher_is_better=False, objective="val_loss")
        >>> plot_ranking(result, "/tmp/ranking.png").name  # doctest: +SKIP
        'ranking.png'
    """
    path = output_path(path)
    plt = pyplot()
    rows = result.ranking
    figure, axis = plt.subplots(figsize=(max(6.0, 1.1 * len(rows)), 4.0))
    colors = ["tab:green" if r.advised else "tab:orange" if r.baseline else "tab:blue" for r in rows]
    axis.bar(range(len(rows)), [r.mean for r in rows], yerr=[r.std for r in rows], color=colors, capsize=4)
    axis.set_xticks(range(len(rows)), [f"{r.candidate}\n{r.initializer}" for r in rows], fontsize=8)
    direction = "higher" if result.higher_is_better else "lower"
    axis.set_ylabel(f"{result.objective} ({direction} is better)")
    axis.set_xlabel("configuration (activation / initializer), best first")
    axis.set_title("confirm(): green = advised, orange = yours (mean ± std over executions)", fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)
