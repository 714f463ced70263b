"""Figures of the diagnostics: per layer (`plot_diagnostics`), over epochs (`plot_history`), and
of a `confirm()` ranking (`plot_ranking`).

Needs matplotlib (``pip install "keras-act[plot]"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from advisor.diagnostics import SiteDiagnostic
from keras_act._plotting import pyplot

METRICS = (
    ("dead_fraction", "dead units (fraction)", "linear"),
    ("saturated_fraction", "saturated units (fraction)", "linear"),
    ("grad_norm", "kernel gradient norm", "log"),
)


def plot_diagnostics(diagnostics: Any, path: str | Path, title: str | None = None) -> Path:
    """Draw dead and saturated fractions and gradient norms per layer into a PNG.

    Args:
        diagnostics: an `Advice` computed with data, or its list of `SiteDiagnostic` rows.
        path: the PNG to write.

    Example:
        >>> import keras, numpy as np
        >>> from advisor import advise
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
        ...                           keras.layers.Dense(1)])
        >>> advice = advise(model, x=np.ones((8, 3)), y=np.zeros(8))
        >>> plot_diagnostics(advice, "/tmp/diagnostics.png").name  # doctest: +SKIP
        'diagnostics.png'
    """
    rows: Sequence[SiteDiagnostic] = getattr(diagnostics, "diagnostics", diagnostics)
    if not rows:
        raise ValueError("plot_diagnostics: no diagnostics to draw; call advise(model, x=..., y=...) "
                         "with sample data first.")
    plt = pyplot()
    labels = [f"{row.layer}\n{row.activation}" for row in rows]
    figure, axes = plt.subplots(1, 3, figsize=(max(9.0, 0.7 * len(rows) * 3), 3.6))
    for axis, (key, label, scale) in zip(axes, METRICS):
        values = [getattr(row, key) for row in rows]
        shown = [v if v is not None else 0.0 for v in values]
        colors = ["tab:gray" if v is None else "tab:blue" for v in values]
        axis.bar(range(len(rows)), [max(v, 1e-30) for v in shown] if scale == "log" else shown, color=colors)
        axis.set_yscale(scale)
        axis.set_title(label)
        axis.set_xticks(range(len(rows)), labels, rotation=90, fontsize=7)
        if scale == "linear":
            axis.set_ylim(0, 1)
            for index, value in enumerate(values):
                if value is None:
                    axis.text(index, 0.02, "n/a", ha="center", fontsize=7, color="tab:gray")
    figure.suptitle(title or "Activation diagnostics per layer")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_history(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Draw how each layer's figures evolved over the epochs (`ActivationMonitor.history`)."""
    if not history:
        raise ValueError("plot_history: the history is empty; train with the monitor first.")
    plt = pyplot()
    layers = list(dict.fromkeys(record["layer"] for record in history))
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for axis, (key, label, scale) in zip(axes, METRICS):
        for layer in layers:
            points = [(r["epoch"], r[key]) for r in history if r["layer"] == layer and r[key] is not None]
            if points:
                epochs, values = zip(*points)
                axis.plot(epochs, [max(v, 1e-30) for v in values] if scale == "log" else values,
                          marker="o", markersize=3, label=layer)
        axis.set_yscale(scale)
        if scale == "linear":
            axis.set_ylim(-0.02, 1.02)
        axis.set_title(label)
        axis.set_xlabel("epoch")
    axes[-1].legend(fontsize=7, loc="best")
    figure.suptitle("Activation diagnostics during training")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_ranking(result: Any, path: str | Path) -> Path:
    """Draw a `confirm()` ranking (mean ± std of the objective per configuration) into a PNG.

    Example:
        >>> from advisor.verdict import rank
        >>> result = rank({"relu + he_normal": [0.3, 0.32], "tanh + glorot_uniform": [0.4, 0.38]},
        ...               ("relu", "he_normal"), None, higher_is_better=False, objective="val_loss")
        >>> plot_ranking(result, "/tmp/ranking.png").name  # doctest: +SKIP
        'ranking.png'
    """
    plt = pyplot()
    rows = result.ranking
    figure, axis = plt.subplots(figsize=(max(6.0, 1.1 * len(rows)), 3.8))
    colors = ["tab:green" if r.advised else "tab:orange" if r.baseline else "tab:blue" for r in rows]
    axis.bar(range(len(rows)), [r.mean for r in rows], yerr=[r.std for r in rows], color=colors, capsize=4)
    axis.set_xticks(range(len(rows)), [f"{r.candidate}\n{r.initializer}" for r in rows], fontsize=8)
    axis.set_ylabel(result.objective)
    axis.set_title("confirm(): green = advised, orange = yours (mean ± std)", fontsize=10)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
