"""Speed of every keras_act layer relative to the Keras built-in, on TensorFlow.

For each activation: forward + backward of the activation alone on a 4096 x 1024 float32
tensor inside `tf.function`, with `jit_compile` off and on, timed side by side with the Keras
built-in (`keras.activations.X` or `keras.layers.X`) and with a "floor" (one multiply forward
and backward: the memory traffic no elementwise op can avoid). Repetitions are interleaved in
ABBA order; a ratio is the median over repetitions of
the two times taken side by side. The parametric layers (PReLU, Swish, Rational, ACON,
Snake) also compute the gradient for their parameters; Swish's built-in, `silu`, has none.
Rational, ACON and Snake have no Keras counterpart: their "Keras" column is Keras' gelu. Then an end-to-end line per
activation: one training step of a 4 x 1024 MLP.

Run:  python benchmarks/layers.py            (about 5 minutes on 2 CPU cores)
      python benchmarks/layers.py --quick    (fewer repetitions, no end-to-end part)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_act  # noqa: E402

SHAPE = (4096, 1024)
NOISE_ROW = "(noise)"


# Learnable layers Keras has no counterpart of, timed against Keras' gelu (a fused erf on
# TensorFlow): the bar they are held to is "within 2x of gelu".
AGAINST_GELU = ("rational", "acon", "snake")


def keras_builtin(activation_id: str) -> keras.layers.Layer:
    """The Keras layer that computes the same function with Keras' own code (for the learnable
    layers without one, `AGAINST_GELU`, Keras' gelu)."""
    if activation_id in AGAINST_GELU:
        return keras.layers.Activation(keras.activations.gelu)
    if activation_id == "prelu":
        return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    functions = {
        "leaky_relu": lambda x: keras.activations.leaky_relu(x, negative_slope=0.01),
        "swish": keras.activations.silu,
    }
    return keras.layers.Activation(functions.get(activation_id, getattr(keras.activations, activation_id)))


def forward_backward(layer: keras.layers.Layer, jit: bool) -> Callable[[tf.Tensor], object]:
    """A compiled step: the layer's output and its gradient w.r.t. input and weights."""
    layer.build(SHAPE)

    @tf.function(jit_compile=jit)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return y, tape.gradient(y, [x] + layer.trainable_weights)

    return step


class Floor(keras.layers.Layer):
    """One multiply: the cheapest possible elementwise forward and backward."""

    def call(self, x):
        return x * 2.0


def interleaved_times(steps: dict[str, Callable[[], object]], reps: int) -> dict[str, list[float]]:
    """Seconds per call of each step, the steps run in ABBA order to cancel drift."""
    for step in steps.values():  # compile and warm up
        step()
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    order = list(steps)
    for rep in range(reps):
        for name in order if rep % 2 == 0 else reversed(order):
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(times: dict[str, list[float]], name: str, baseline: str) -> float:
    """Median over repetitions of the ratio of two steps timed side by side in that repetition.

    Pairing cancels the machine's slow drifts (other processes, frequency), which move both.
    """
    return statistics.median(a / b for a, b in zip(times[name], times[baseline]))


def _run(step, x):
    def call():
        outputs = step(x)
        tf.nest.map_structure(lambda t: t.numpy(), outputs)  # wait for the result

    return call


def activation_table(ids: list[str], reps: int) -> list[tuple]:
    """One row per activation; first a control row timing Keras' ReLU against itself, whose
    distance from 1.00 is the measurement noise of this run."""
    x = tf.random.normal(SHAPE, seed=0)
    rows = []
    for activation_id in [NOISE_ROW] + ids:
        noise = activation_id == NOISE_ROW
        builtin_id = "relu" if noise else activation_id
        row = [activation_id]
        for jit in (False, True):
            ours = keras_builtin(builtin_id) if noise else keras_act.get(activation_id)
            steps = {
                "ours": _run(forward_backward(ours, jit), x),
                "keras": _run(forward_backward(keras_builtin(builtin_id), jit), x),
                "floor": _run(forward_backward(Floor(), jit), x),
            }
            t = interleaved_times(steps, reps)
            row += [
                statistics.median(t["ours"]) * 1e3,
                paired_ratio(t, "ours", "keras"),
                paired_ratio(t, "ours", "floor"),
            ]
        rows.append(tuple(row))
        print(_format_row(rows[-1]), flush=True)
    return rows


def _format_row(row) -> str:
    name, ms, vs_keras, vs_floor, ms_xla, vs_keras_xla, vs_floor_xla = row
    return (
        f"| {name:<10} | {ms:7.1f} | {vs_keras:5.2f} | {vs_floor:5.2f} "
        f"| {ms_xla:7.1f} | {vs_keras_xla:5.2f} | {vs_floor_xla:5.2f} |"
    )


def mlp(activation: Callable[[], keras.layers.Layer], width: int = 1024, depth: int = 4) -> keras.Model:
    layers = [keras.Input((width,))]
    for _ in range(depth):
        layers += [keras.layers.Dense(width), activation()]
    model = keras.Sequential(layers + [keras.layers.Dense(10)])
    return model


def end_to_end_table(ids: list[str], reps: int, batch: int = 512) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, 1024)).astype("float32")
    y = rng.normal(size=(batch, 10)).astype("float32")
    print("\nEnd to end: one training step (Adam, MSE) of a 4 x 1024 MLP, batch 512.")
    print("| activation | ms (ours) | ratio to Keras | ms XLA | ratio XLA |")
    print("|---|---:|---:|---:|---:|")
    for activation_id in ids:
        cells = []
        for jit in (False, True):
            steps = {}
            for name, factory in (
                ("ours", lambda: keras_act.get(activation_id)),
                ("keras", lambda: keras_builtin(activation_id)),
            ):
                keras.utils.set_random_seed(0)
                model = mlp(factory)
                model.compile(keras.optimizers.Adam(1e-4), "mse", jit_compile=jit)
                steps[name] = lambda model=model: model.train_on_batch(x, y)
            t = interleaved_times(steps, reps)
            cells += [statistics.median(t["ours"]) * 1e3, paired_ratio(t, "ours", "keras")]
        print(
            f"| {activation_id:<10} | {cells[0]:7.1f} | {cells[1]:5.2f} | {cells[2]:7.1f} | {cells[3]:5.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ids", nargs="*", default=keras_act.names())
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--e2e-reps", type=int, default=9, help="0 skips the end-to-end part")
    parser.add_argument("--quick", action="store_true", help="9 repetitions, no end-to-end part")
    args = parser.parse_args()
    reps = 9 if args.quick else args.reps
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores; "
        f"tensor {SHAPE[0]}x{SHAPE[1]} float32, forward + backward; median of {reps} paired ratios (ABBA)."
    )
    print("| activation | ms | ÷ Keras | ÷ floor | ms XLA | ÷ Keras XLA | ÷ floor XLA |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    activation_table(args.ids, reps)
    if not args.quick and args.e2e_reps > 0:
        end_to_end_table(args.ids, args.e2e_reps)


if __name__ == "__main__":
    main()
