"""Is the advisor's advice right on real data? The advice against an exhaustive grid, held out.

Tasks: scikit-learn's bundled datasets (breast cancer: binary; digits as a flat MLP and as 8x8
images in a small conv net, wine, iris: multiclass; diabetes: regression), each with a shallow (2
hidden layers) and a deep (12 hidden layers; 10 conv layers) architecture of 32 units. The user's
model starts from ReLU when shallow and from sigmoid when deep, with Keras' default glorot_uniform.
Features are standardized on the training split; the test split (25%) is held out throughout.
Beyond plain stacks: digits as 8x8 images in a BatchNormalization + residual CNN, and the UCR
time-series sets bundled in aeon's wheel (ItalyPowerDemand, GunPoint, ArrowHead, BasicMotions:
their own train/test splits) with a plain Conv1D net, a residual Conv1D net with
BatchNormalization, a GRU, and (ItalyPowerDemand, GunPoint) keras.io's transformer classifier of
two keras_hub `TransformerEncoder` blocks; the user's model uses ReLU there (`pip install -e
".[benchmark]"`). Inside those blocks `apply()` sets the activation only (their one
`kernel_initializer` argument sets the attention's kernels too), so a pair's initializer reaches
the layers outside them.

For each task, keras-tuner's GridSearch trains every hidden activation in GRID with its paired
initializer, plus Keras' defaults (relu + glorot_uniform), 3 seeds each; a training uses 20% of the
training split for early stopping (restoring the best weights) and is scored on the test split:
accuracy, or R^2 for regression. Then:

- static: `advise()`'s hidden activation + initializer;
- confirmed: `advise()` then `confirm()` with its defaults on the training split: its winner
  (rows: the advice's candidates, Keras' defaults, the model's own configuration);
- keras defaults: relu + glorot_uniform; rule of thumb: relu + he_normal.

"Within noise" of the grid's best: score >= best mean - max(2 x the best's standard error over
seeds, 0.01 accuracy / 0.02 R^2).

Backend: JAX when it is installed and KERAS_BACKEND is not set. The question is which activation
wins, not which backend trains fastest, and on these small models Keras' JAX trainer spends a
fraction of TensorFlow's per-epoch overhead (tf.data iterators), which is what fits the grid into
the time budget. Tasks run in --workers processes side by side; confirm() and the grid of one
task always run in the same process, so their times compare like with like.

Run:  pip install jax; python benchmarks/advisor_quality.py   (the full table; see docs/evidence.md for its time)
      python benchmarks/advisor_quality.py --tasks iris-shallow --seeds 1 --epochs 5   (a quick look)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import math
import multiprocessing
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("jax") is not None:
    os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from keras_act import datasets  # noqa: E402
from keras_act.advisor import advise, apply, confirm  # noqa: E402
from keras_act.advisor.confirm import KERAS_DEFAULTS  # noqa: E402
from keras_act.advisor.inspection import KERAS_ACTIVATIONS, view  # noqa: E402
from keras_act.advisor.recommend import initializer_for  # noqa: E402

GRID = ["relu", "leaky_relu", "prelu", "elu", "swish", "gelu", "selu", "tanh", "sigmoid"]
RULE_OF_THUMB = ("relu", "he_normal")
WIDTH = 32
DEPTHS = {"shallow": 2, "deep": 12}
CONV_DEPTHS = {"shallow": 2, "deep": 10}
CONV_FILTERS = 8  # a small conv net: 8x8 images, 10 layers of 8 filters still fit the time budget
MIN_MARGIN = {"accuracy": 0.01, "r2": 0.02}


# The UCR time-series sets bundled in aeon's wheel (its own loaders read the installed files).
UCR = {
    "italy": "load_italy_power_demand",
    "gunpoint": "load_gunpoint",
    "arrowhead": "load_arrow_head",
    "basicmotions": "load_basic_motions",
}
# Architectures: plain dense and conv stacks (shallow/deep), and the designs beyond them: a
# BatchNormalization + residual CNN on digits as 8x8 images, and on time series a plain Conv1D
# net, a residual Conv1D net with BatchNormalization (Wang et al. 2017's ResNet for time-series
# classification, smaller), a GRU with a dense layer after it, and one transformer encoder block
# (Vaswani et al. 2017: self-attention and a feed-forward block, each residual with LayerNormalization;
# used by benchmarks/atlas.py); and keras.io's transformer classifier: a position embedding and two
# `keras_hub.layers.TransformerEncoder` blocks, custom layers the advisor reads through what they compute.
ARCHITECTURES = ("mlp", "conv", "resnet", "conv1d", "resconv1d", "gru", "transformer", "hub_encoder")
TRANSFORMER_UNITS = 32
ENCODER_BLOCKS = 2
CONV1D_FILTERS = 16


class Task(NamedTuple):
    name: str
    dataset: str
    arch: str
    depth_name: str  # "shallow" / "deep" for the plain stacks; "" for a fixed design

    @property
    def conv(self) -> bool:
        return self.arch != "mlp"


TASKS = [
    Task(f"{data}{'-conv' if arch == 'conv' else ''}-{depth}", data, arch, depth)
    for data, arch in (
        ("breast_cancer", "mlp"),
        ("digits", "mlp"),
        ("digits", "conv"),
        ("wine", "mlp"),
        ("iris", "mlp"),
        ("diabetes", "mlp"),
    )
    for depth in ("shallow", "deep")
]
TASKS += [
    Task(f"{data}-{arch}", data, arch, "")
    for data, arch in (
        ("digits", "resnet"),
        ("italy", "conv1d"),
        ("italy", "resconv1d"),
        ("italy", "gru"),
        ("gunpoint", "resconv1d"),
        ("arrowhead", "conv1d"),
        ("arrowhead", "gru"),
        ("basicmotions", "resconv1d"),
        ("basicmotions", "gru"),
        ("italy", "hub_encoder"),
        ("gunpoint", "hub_encoder"),
    )
]


def _residual_block(x: Any, filters: int, conv: Any) -> Any:
    """conv -> BN -> ReLU -> conv -> BN, added to the block's input (projected when widths differ)."""
    y = keras.layers.ReLU()(keras.layers.BatchNormalization()(conv(filters)(x)))
    y = keras.layers.BatchNormalization()(conv(filters)(y))
    shortcut = x if x.shape[-1] == filters else keras.layers.BatchNormalization()(conv(filters, 1)(x))
    return keras.layers.ReLU()(keras.layers.Add()([shortcut, y]))


def body(task: Task, shape: tuple[int, ...]) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The user's model up to its head: ReLU for the fixed designs; the plain stacks use ReLU when
    shallow and sigmoid when deep; Keras' default initializer throughout."""
    inputs = keras.Input(shape)
    activation = "relu" if task.depth_name in ("shallow", "") else "sigmoid"
    x = inputs
    if task.arch == "mlp":
        for _ in range(DEPTHS[task.depth_name]):
            x = keras.layers.Dense(WIDTH, activation=activation)(x)
    elif task.arch == "conv":
        for _ in range(CONV_DEPTHS[task.depth_name]):
            x = keras.layers.Conv2D(CONV_FILTERS, 3, padding="same", activation=activation)(x)
        x = keras.layers.Flatten()(x)
    elif task.arch == "resnet":
        conv = lambda f, k=3: keras.layers.Conv2D(f, k, padding="same")  # noqa: E731
        x = keras.layers.ReLU()(keras.layers.BatchNormalization()(conv(CONV_FILTERS)(x)))
        for filters in (CONV_FILTERS, 2 * CONV_FILTERS, 2 * CONV_FILTERS):
            x = _residual_block(x, filters, conv)
        x = keras.layers.GlobalAveragePooling2D()(x)
    elif task.arch == "conv1d":
        for _ in range(3):
            x = keras.layers.Conv1D(CONV1D_FILTERS, 5, padding="same", activation="relu")(x)
        x = keras.layers.GlobalAveragePooling1D()(x)
    elif task.arch == "resconv1d":
        conv = lambda f, k=5: keras.layers.Conv1D(f, k, padding="same")  # noqa: E731
        for filters in (CONV1D_FILTERS, 2 * CONV1D_FILTERS):
            x = _residual_block(x, filters, conv)
        x = keras.layers.GlobalAveragePooling1D()(x)
    elif task.arch == "gru":
        x = keras.layers.Dense(WIDTH, activation="relu")(keras.layers.GRU(WIDTH)(x))
    elif task.arch == "hub_encoder":
        import keras_hub  # the benchmark extra installs it

        x = keras.layers.Dense(TRANSFORMER_UNITS)(x)
        x = keras.layers.Add()([x, keras_hub.layers.PositionEmbedding(shape[0])(x)])
        for _ in range(ENCODER_BLOCKS):  # activation="relu": TransformerEncoder's default
            x = keras_hub.layers.TransformerEncoder(2 * TRANSFORMER_UNITS, num_heads=2)(x)
        x = keras.layers.GlobalAveragePooling1D()(x)
    else:  # transformer
        x = keras.layers.Dense(TRANSFORMER_UNITS)(x)
        attended = keras.layers.MultiHeadAttention(2, TRANSFORMER_UNITS // 2)(x, x)
        x = keras.layers.LayerNormalization()(keras.layers.Add()([x, attended]))
        hidden = keras.layers.Dense(2 * TRANSFORMER_UNITS, activation="relu")(x)
        x = keras.layers.LayerNormalization()(keras.layers.Add()([x, keras.layers.Dense(TRANSFORMER_UNITS)(hidden)]))
        x = keras.layers.GlobalAveragePooling1D()(x)
    return inputs, x


def user_model(task: Task, shape: tuple[int, ...], n_outputs: int, regression: bool) -> keras.Model:
    """The model a user starts from (see `body`), with the usual head and loss for the task."""
    inputs, x = body(task, shape)
    if regression:
        outputs, loss = keras.layers.Dense(1)(x), "mse"
    elif n_outputs == 2:
        outputs, loss = keras.layers.Dense(1, activation="sigmoid")(x), "binary_crossentropy"
    else:
        outputs = keras.layers.Dense(n_outputs, activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), loss)
    return model


def load_ucr(name: str) -> datasets.Split:
    """A UCR set's own train/test split from aeon's bundled files: (series, time, channels),
    standardized per channel on the training split, labels as class indices."""
    try:
        import aeon.datasets
    except ImportError:
        raise SystemExit('The time-series tasks need aeon: pip install -e ".[benchmark]"') from None
    loader = getattr(aeon.datasets, UCR[name])
    x_train, y_train = loader(split="train")
    x_test, y_test = loader(split="test")
    x_train, x_test = (np.transpose(np.asarray(a, dtype="float64"), (0, 2, 1)) for a in (x_train, x_test))
    mean, std = x_train.mean(axis=(0, 1)), x_train.std(axis=(0, 1))
    classes = {label: index for index, label in enumerate(sorted(set(y_train)))}
    labels = lambda a: np.array([classes[v] for v in a], dtype="int64")  # noqa: E731
    return datasets.Split(
        ((x_train - mean) / std).astype("float32"),
        ((x_test - mean) / std).astype("float32"),
        labels(y_train),
        labels(y_test),
    )


def load_task(task: Task, seed: int) -> datasets.Split:
    """The task's data: a UCR set's own split, or a bundled scikit-learn set split 75/25."""
    if task.dataset in UCR:
        return load_ucr(task.dataset)
    split = datasets.load(task.dataset, seed)
    if task.arch in ("conv", "resnet"):  # digits as 8x8 images
        split = datasets.Split(
            split.x_train.reshape(-1, 8, 8, 1), split.x_val.reshape(-1, 8, 8, 1), split.y_train, split.y_val
        )
    return split


def test_score(model: keras.Model, x: np.ndarray, y: np.ndarray, regression: bool) -> float:
    """Accuracy, or R^2 for regression, on held-out data."""
    # One direct call: the test splits are small, and predict() would compile one more function.
    predictions = keras.ops.convert_to_numpy(model(x, training=False))
    if regression:
        residual = np.sum((y - predictions.ravel()) ** 2)
        return float(1.0 - residual / np.sum((y - y.mean()) ** 2))
    labels = (predictions.ravel() > 0.5).astype(int) if predictions.shape[-1] == 1 else predictions.argmax(-1)
    return float(np.mean(labels == y))


class HeldOutGrid(kt.HyperModel):
    """Each trial: apply the pair to the user's model, train with early stopping, score on the test split."""

    def __init__(self, model, advice, pairs, split, regression, epochs, seed) -> None:
        super().__init__()
        self.model, self.advice, self.pairs, self.split = model, advice, pairs, split
        self.regression, self.epochs, self.seed = regression, epochs, seed
        self.builds: dict[str, int] = defaultdict(int)
        self.scores: dict[str, list[float]] = defaultdict(list)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        key = hp.Choice("pair", [f"{a}/{i}" for a, i in self.pairs])
        # keras-tuner builds once before the search to read the space; executions are seeded
        # seed, seed + 1, ... per pair, so every pair sees the same seeds.
        keras.utils.set_random_seed(self.seed + self.builds[key])
        self.builds[key] += 1
        activation, initializer = key.split("/")
        return apply(
            self.model, dataclasses.replace(self.advice, hidden_activation=activation, hidden_initializer=initializer)
        )

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> dict[str, float]:
        split = self.split
        stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
        model.fit(
            split.x_train,
            split.y_train,
            validation_split=0.2,
            epochs=self.epochs,
            batch_size=32,
            callbacks=[stop],
            verbose=0,
        )
        score = test_score(model, split.x_val, split.y_val, self.regression)
        score = score if math.isfinite(score) else -1.0
        self.scores[hp.values["pair"]].append(score)
        return {"test_score": score}


@contextlib.contextmanager
def fresh_compile_cache() -> Iterator[None]:
    """On JAX, a persistent compilation cache of its own for one phase (confirm() or the grid).

    A model is compiled anew for every training, and a configuration's executions differ only in
    their seeds, so they compile once. Each phase starts from an empty cache: timed alike.
    """
    if keras.backend.backend() != "jax":
        yield
        return
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    with tempfile.TemporaryDirectory(prefix="quality_jax_cache_") as directory:
        compilation_cache.set_cache_dir(directory)
        compilation_cache.reset_cache()
        try:
            yield
        finally:
            jax.config.update("jax_compilation_cache_dir", None)
            compilation_cache.reset_cache()


def run_task(
    task: Task,
    seeds: int,
    epochs: int,
    confirm_epochs: int,
    confirm_executions: int,
    seed: int,
    grid: tuple[str, ...] = tuple(GRID),
) -> dict[str, Any]:
    split = load_task(task, seed)
    regression = task.dataset == "diabetes"
    n_outputs = 1 if regression else len(np.unique(split.y_train))
    model = user_model(task, split.x_train.shape[1:], n_outputs, regression)
    advice = advise(model, y=split.y_train)
    static = (advice.hidden_activation, advice.hidden_initializer)

    start = time.perf_counter()
    with fresh_compile_cache(), tempfile.TemporaryDirectory(prefix="quality_confirm_") as directory:
        result = confirm(
            model,
            split.x_train,
            split.y_train,
            advice=advice,
            epochs=confirm_epochs,
            executions_per_trial=confirm_executions,
            seed=seed,
            directory=directory,
            verbose=0,
        )
    confirm_s = time.perf_counter() - start
    confirmed = (result.best.candidate, result.best.initializer)

    if view(model).custom_layers:
        # A custom layer's activation argument takes Keras' activations only: a keras_act layer
        # (prelu) would leave it as it was, and the row would measure the model's own.
        grid = tuple(a for a in grid if a in KERAS_ACTIVATIONS)
    grid_pairs = [(a, initializer_for(a)) for a in grid]
    pairs = list(grid_pairs)
    for extra in (KERAS_DEFAULTS, static, confirmed):
        if extra not in pairs:
            pairs.append(extra)
    hypermodel = HeldOutGrid(model, advice, pairs, split, regression, epochs, seed)
    start = time.perf_counter()
    with fresh_compile_cache(), tempfile.TemporaryDirectory(prefix="quality_") as directory:
        tuner = kt.GridSearch(
            hypermodel,
            objective=kt.Objective("test_score", "max"),
            executions_per_trial=seeds,
            directory=directory,
            project_name=task.name,
        )
        hypermodel.builds.clear()  # the build keras-tuner made to read the space trained nothing
        tuner.search(verbose=0)
    grid_s = time.perf_counter() - start
    stats = {
        pair: (float(np.mean(s)), float(np.std(s, ddof=1)) / math.sqrt(len(s)) if len(s) > 1 else 0.0)
        for pair, s in ((tuple(k.split("/")), v) for k, v in hypermodel.scores.items())
    }
    best_pair = max(grid_pairs, key=lambda p: stats[p][0])
    best_mean, best_se = stats[best_pair]
    margin = max(2 * best_se, MIN_MARGIN["r2" if regression else "accuracy"])
    ranked = sorted(stats, key=lambda p: -stats[p][0])

    def report(pair: tuple[str, str]) -> dict[str, Any]:
        mean = stats[pair][0]
        return {
            "pair": "/".join(pair),
            "mean": mean,
            "rank": ranked.index(pair) + 1,
            "gap_se": (best_mean - mean) / best_se if best_se > 0 else (0.0 if mean >= best_mean else math.inf),
            "within": mean >= best_mean - margin,
        }

    return {
        "task": task.name,
        "metric": "R2" if regression else "accuracy",
        "best": report(best_pair),
        "best_se": best_se,
        "static": report(static),
        "confirmed": report(confirmed),
        "keras": report(KERAS_DEFAULTS),
        "rule": report(RULE_OF_THUMB),
        "confirm_s": confirm_s,
        "grid_s": grid_s,
        "grid": {"/".join(p): stats[p] for p in ranked},
        "confirm_ranking": [(f"{r.candidate}/{r.initializer}", r.mean, r.std) for r in result.ranking],
    }


def cell(entry: dict[str, Any]) -> str:
    """One pipeline's table cell: its pair, rank, gap to the best in standard errors, within noise."""
    mark = "✓" if entry["within"] else "✗"
    return f"{entry['pair']} #{entry['rank']}, {entry['gap_se']:.1f} {mark}"


def run_tasks(
    function: Callable[..., dict[str, Any]], tasks: list[Task], settings: tuple[Any, ...], workers: int
) -> list[dict[str, Any]]:
    """`function(task, *settings)` for every task, in `workers` processes side by side (in this
    one when `workers` is 1: no interpreter to start), the rows in the order of `tasks`."""
    start = time.perf_counter()
    # The conv tasks take longest: started first, they do not finish last alone.
    ordered = sorted(tasks, key=lambda t: not t.conv)
    by_name = {}
    if workers == 1:
        for task in ordered:
            by_name[task.name] = function(task, *settings)
            print(f"  {task.name} done at {time.perf_counter() - start:.0f} s", flush=True)
        return [by_name[t.name] for t in tasks]
    # spawn: a fresh interpreter per worker, never a fork of an initialised backend.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(function, t, *settings): t.name for t in ordered}
        for done in as_completed(futures):
            print(f"  {futures[done]} done at {time.perf_counter() - start:.0f} s", flush=True)
        by_name = {futures[f]: f.result() for f in futures}
    return [by_name[t.name] for t in tasks]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=[t.name for t in TASKS], choices=[t.name for t in TASKS])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60, help="most epochs per grid training (early stopping)")
    parser.add_argument("--confirm-epochs", type=int, default=20, help="confirm()'s epochs (its default)")
    parser.add_argument(
        "--confirm-executions",
        type=int,
        default=3,
        help="confirm()'s executions per row (its default is 10; 3 keeps the run short)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=2, help="tasks run side by side in this many processes (1: in this one)"
    )
    parser.add_argument(
        "--grid",
        nargs="+",
        default=GRID,
        choices=GRID,
        help="the grid's hidden activations (default: all of GRID; fewer for a quick look)",
    )
    parser.add_argument("--save", type=Path, help="also write every task's grid and confirm() ranking as JSON")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    tasks = [t for t in TASKS if t.name in args.tasks]
    start = time.perf_counter()
    print(f"Keras backend: {keras.backend.backend()}; {len(tasks)} tasks on {args.workers} worker(s)", flush=True)
    settings = (args.seeds, args.epochs, args.confirm_epochs, args.confirm_executions, args.seed, tuple(args.grid))
    rows = run_tasks(run_task, tasks, settings, args.workers)
    print(
        "\n| task | metric | grid best (mean ± se) | static pick: rank, gap (se) | confirmed pick: rank, gap (se) "
        "| Keras defaults | relu + He | confirm() s | grid s |"
    )
    print("|---|---|---|---|---|---|---|---:|---:|")
    for row in rows:
        print(
            f"| {row['task']} | {row['metric']} | {row['best']['pair']} {row['best']['mean']:.3f} ± "
            f"{row['best_se']:.3f} | {cell(row['static'])} | {cell(row['confirmed'])} | {cell(row['keras'])} | "
            f"{cell(row['rule'])} | {row['confirm_s']:.0f} | {row['grid_s']:.0f} |"
        )
    arch = {t.name: t.arch for t in TASKS}
    groups = [("all tasks", rows), ("CNN, residual and sequence tasks", [r for r in rows if arch[r["task"]] != "mlp"])]
    for group, members in groups:
        if not members:
            continue
        print(f"\n{group}: within noise of the grid's best (✓), of {len(members)}; mean regret = grid best - score:")
        keras_regret = np.mean([r["best"]["mean"] - r["keras"]["mean"] for r in members])
        for key, label in (
            ("static", "static advise()"),
            ("confirmed", "advise() + confirm()"),
            ("keras", "Keras defaults (relu + glorot_uniform)"),
            ("rule", "rule of thumb (relu + he_normal)"),
        ):
            within = sum(r[key]["within"] for r in members)
            regret = np.mean([r["best"]["mean"] - r[key]["mean"] for r in members])
            print(
                f"  {label:<40} {within:>2} / {len(members)}   mean regret {regret:.4f} "
                f"({regret - keras_regret:+.4f} vs Keras defaults)"
            )
    if args.save:
        args.save.write_text(json.dumps(rows, indent=1))
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
