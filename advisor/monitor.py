"""`ActivationMonitor`: the diagnostics of `advise(model, x=...)`, recorded during `fit`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import keras

from keras_act.learned import CURVE_GRID, learned_layers, plot_learned

from .diagnostics import MAX_SAMPLES, Diagnoser
from .inspection import view
from .sample import prepare_sample
from .task import infer_task, training_loss


class ActivationMonitor(keras.callbacks.Callback):
    """Record dead/saturated fractions and gradient norms per activation site while training.

    At the end of every `every` epochs it measures the model on the sample exactly as
    `advise(model, x=x_sample, y=y_sample)` would (same rows, same figures) and appends one dict
    per activation site to `history`, with keys ``epoch``, ``layer``, ``activation``,
    ``dead_fraction``, ``saturated_fraction``, ``grad_norm`` (``pandas.DataFrame(monitor.history)``
    works). With `log_dir` it also writes them as TensorBoard scalars. A model it does not
    understand gets one warning and no error; training goes on.

    Args:
        x_sample: inputs to measure on (NumPy arrays; at most 2048 rows are used).
        every: measure every this many epochs.
        log_dir: a TensorBoard log directory, or None.
        y_sample: labels for `x_sample`; without them `grad_norm` is None.
        learned_curves: also record, each measured epoch, the curve of every learnable keras_act
            activation (Rational, ACON, Snake, PReLU, Swish) into `curves` (dicts with keys
            ``epoch``, ``layer``, ``x``, ``curve``), which `plot_learned` draws over the epochs.

    Examples:
        >>> import keras, numpy as np
        >>> x, y = np.random.rand(64, 4), np.random.randint(0, 2, 64)
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> model.compile("adam", "binary_crossentropy")
        >>> monitor = ActivationMonitor(x, y_sample=y)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
        >>> [(r["epoch"], r["activation"]) for r in monitor.history]
        [(1, 'relu'), (2, 'relu')]
    """

    def __init__(
        self,
        x_sample: Any,
        every: int = 1,
        log_dir: str | Path | None = None,
        y_sample: Any = None,
        learned_curves: bool = False,
    ) -> None:
        super().__init__()
        if hasattr(every, "shape") or isinstance(every, (list, tuple)):
            raise TypeError(
                "ActivationMonitor: `every` (the second argument) must be a positive integer, "
                f"received an array-like {type(every).__name__}; pass labels as y_sample=."
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"ActivationMonitor: `every` must be a positive integer, received {every!r}.")
        if x_sample is None:
            raise ValueError("ActivationMonitor: `x_sample` is required (a NumPy array of inputs).")
        self.x_sample = x_sample
        self.y_sample = y_sample
        self.every = every
        self.log_dir = None if log_dir is None else str(log_dir)
        if not isinstance(learned_curves, bool):
            raise TypeError(f"ActivationMonitor: `learned_curves` must be True or False, received {learned_curves!r}.")
        self.learned_curves = learned_curves
        self.history: list[dict[str, Any]] = []
        self.curves: list[dict[str, Any]] = []
        self._diagnoser: Diagnoser | None = None
        self._sample: tuple[Any, Any] | None = None
        self._writer: Any = None
        self._disabled = False

    def _disable(self, error: Exception) -> None:
        self._disabled = True
        warnings.warn(
            f"ActivationMonitor: cannot diagnose this model ({type(error).__name__}: {error}); it records nothing.",
            stacklevel=2,
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._diagnoser is not None or self._disabled:
            return
        try:
            x, y = prepare_sample(self.model, self.x_sample, self.y_sample, MAX_SAMPLES)
            model_view = view(self.model)
            inference = infer_task(model_view, None, y)
            loss = training_loss(model_view, inference.task, model_view.heads[0].layer, y)
            self._diagnoser = Diagnoser(self.model, loss, model_view)
            self._sample = (x, y)
        except Exception as error:  # a model it does not understand must not stop training
            self._disable(error)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every:
            return
        if self.learned_curves:
            self.curves.extend(
                {"epoch": epoch + 1, "layer": layer.name, "x": CURVE_GRID, "curve": layer.curve(CURVE_GRID)}
                for layer in learned_layers(self.model)
                if layer.built
            )
        if self._disabled or self._diagnoser is None:
            return
        try:
            rows = self._diagnoser.measure(*self._sample).sites
        except Exception as error:
            self._disable(error)
            return
        records = [
            {
                "epoch": epoch + 1,
                "layer": r.layer,
                "activation": r.activation,
                "dead_fraction": r.dead_fraction,
                "saturated_fraction": r.saturated_fraction,
                "grad_norm": r.grad_norm,
            }
            for r in rows
        ]
        self.history.extend(records)
        if self.log_dir is not None:
            self._log(records, epoch + 1)

    def _log(self, records: list[dict[str, Any]], step: int) -> None:
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            for record in records:
                for key in ("dead_fraction", "saturated_fraction", "grad_norm"):
                    if record[key] is not None:
                        tf.summary.scalar(f"activations/{record['layer']}/{key}", record[key], step=step)
        self._writer.flush()

    def plot(self, path: str | Path) -> Path:
        """Draw the recorded figures over the epochs into a PNG (needs matplotlib)."""
        from .plots import plot_history

        return plot_history(self.history, path)

    def plot_learned(self, path: str | Path) -> Path:
        """Draw the learnable activations' curves at each recorded epoch next to their start
        (needs ``learned_curves=True`` and matplotlib; see `keras_act.learned.plot_learned`)."""
        if not self.curves:
            raise ValueError(
                "ActivationMonitor.plot_learned: no curves recorded; create the monitor with "
                "learned_curves=True and train a model with a learnable keras_act activation."
            )
        return plot_learned(self.model, path, history=self.curves)
