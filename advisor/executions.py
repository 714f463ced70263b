"""The executions of one search row: independent, seeded trainings of the same model.

Execution ``i`` of a row builds the model after ``keras.utils.set_random_seed(seed + i)``, trains
it for at most `epochs` epochs with early stopping on the objective and scores it at its best
epoch (`advisor.row_training`). Three `TrainingPath`s train them, with the same numbers, tried
in the order of `PATHS`; the first that does not refuse trains:

- **vectorized** (`advisor.vectorized`, TensorFlow): one model's graph mapped over the
  executions' stacked weights; one trace the size of one model.
- **fused** (`advisor.fused`): the executions as one Keras model, one build, one compile, one fit.
- **one by one** (`advisor.one_by_one`): a `fit()` per execution; never refused.

Each `Execution` records the path that trained it and why each earlier path was refused
(`ConfirmResult.training_report()`; `confirm(verbose=2)` prints it). Measured in
benchmarks/confirm.py (one training costs mostly overhead on small data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from .data import StreamedData
from .fused import FUSED
from .one_by_one import ONE_BY_ONE
from .row_training import Execution, Job, Refused, RowTraining, TrainingPath, as_list, execution_data
from .vectorized import VECTORIZED

PATHS: tuple[TrainingPath, ...] = (VECTORIZED, FUSED, ONE_BY_ONE)


def train_executions(
    spec: RowTraining,
    data: tuple[Any, ...],
    executions: int,
    seed: int,
    fuse: bool = True,
    on_epoch: Callable[[int], None] | None = None,
    sample_weight: np.ndarray | None = None,
) -> list[Execution]:
    """Train `executions` seeded executions of the row's model; their scores, in seed order.

    Args:
        spec: what to build and how to train it.
        data: (x, y, x_val, y_val[, validation sample weights]); x a NumPy array or a list of
            them (one per input), y an array or a list of them (one per output). With x_val and
            y_val None, each execution holds out its own `spec.validation_split` of (x, y)
            (`advisor.row_training.execution_data`). A `StreamedData` as x (y None) is read by
            each execution's `fit`, and so may x_val be (y_val None).
        executions: how many (seeds ``seed``, ``seed + 1``, ...).
        fuse: train executions together (vectorized or fused) where that gives the same
            numbers; False trains them one by one.
        on_epoch: called with the number of execution-epochs finished so far (progress).
        sample_weight: one weight per row of x, or None.

    Returns:
        One `Execution` per seed, each with the path that trained it and why the paths before it
        were refused. A path that fails while training (`Refused`) is not tried again for the row.

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> y = x.sum(axis=1, keepdims=True)
        >>> spec = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                    "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> found = train_executions(spec, (x, y, x, y), executions=3, seed=0, fuse=False)
        >>> len(found), found[0].path, found[0].refused[0]
        (3, 'one by one', ('vectorized', 'one by one on request (fuse_executions=False)'))
    """
    streamed = isinstance(data[0], StreamedData)
    x, y = (data[0] if streamed else as_list(data[0])), data[1]
    validation = None if data[2] is None else tuple(data[2:])
    own_data = (
        []
        if streamed
        else [
            execution_data(x, y, validation, spec.validation_split, seed + i, sample_weight) for i in range(executions)
        ]
    )
    failed: dict[str, str] = {}  # a path that failed while training, and why: not tried again
    results: list[Execution] = []
    while len(results) < executions:
        # Fresh names and graph per job, without clear_session's full garbage collection
        # (0.2-1 s a call, Keras' advice for a short loop; Python's collector frees the cycles).
        keras.backend.clear_session(free_memory=False)
        first, done = len(results), sum(e.epochs for e in results)

        def progress(epochs: int, done: int = done) -> None:
            if on_epoch is not None:
                on_epoch(done + epochs)

        job = Job(
            spec,
            x,
            y,
            own_data[first:],
            seed + first,
            executions - first,
            sample_weight,
            validation,
            fuse,
        )
        trained, refused = _first_that_trains(job, progress, failed)
        results += [dataclasses.replace(e, refused=refused) for e in trained]
    return results


def _first_that_trains(
    job: Job, progress: Callable[[int], None], failed: dict[str, str]
) -> tuple[list[Execution], tuple[tuple[str, str], ...]]:
    """The first path of `PATHS` that trains the job: what it trained (each marked with its
    name), and each earlier path's name and refusal."""
    refused: list[tuple[str, str]] = []
    for path in PATHS:
        reason = failed.get(path.name) or path.refusal(job)
        if reason is None:
            try:
                return [dataclasses.replace(e, path=path.name) for e in path.train(job, progress)], tuple(refused)
            except Refused as error:
                reason = failed[path.name] = str(error)
        refused.append((path.name, reason))
    raise RuntimeError(f"confirm: every way of training refused: {refused}")  # one by one never refuses
