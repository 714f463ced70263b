"""Which task a model solves: from the `task=` argument, the compiled loss, the output layer or
the labels, in that order of trust.

A linear (identity) output decides nothing by itself: it ends both regression models and
logits classifiers. Binary crossentropy means `binary` on one output unit and `multilabel` on
several. Reading the loss before the output width avoids a known peer tool's mistake (AUTOTRAINER
decides binary-vs-multiclass from the unit count and flags a correct two-unit softmax).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .findings import Finding, FindingRule, register
from .inspection import Head, LayerInfo, ModelView, snake_case, view

TASKS = ("binary", "multiclass", "multilabel", "regression")
SOURCES = ("argument", "loss", "output", "labels")

# Integer labels read as class indices only up to this many distinct values; beyond that
# (prices, counts) they read as a regression target.
MAX_CLASSES_FROM_LABELS = 100

TASK_ASSUMED = register(
    FindingRule(
        code="task-assumed",
        severity="info",
        scope="task",
        fires_when="nothing says what the task is (no `task=`, no compiled loss, a linear output, no labels)",
        why="the output activation and the loss depend on the task; regression is assumed",
        example="an uncompiled `Dense(1)` output with no labels",
        fix="Pass task=..., compile the model with its loss, or give labels y.",
    )
)
TASK_SOURCES_DISAGREE = register(
    FindingRule(
        code="task-sources-disagree",
        severity="warning",
        scope="task",
        fires_when="`task=`, the loss, the output layer and the labels imply different tasks: a warning where "
        "`task=` contradicts the compiled loss (the model trains for another task than the one "
        "declared), info otherwise",
        why="one of them is wrong; the most trusted source (argument > loss > output > labels) is used",
        example="`task='regression'` for a sigmoid output compiled with binary crossentropy",
        fix="Fix the source that is wrong: the loss or output activation, or `task=`.",
        severities=("warning", "info"),
    )
)
# A loss for each task, named in the fix when `task=` contradicts the compiled loss.
LOSS_FOR_TASK = {
    "binary": "binary_crossentropy",
    "multiclass": "sparse_categorical_crossentropy",
    "multilabel": "binary_crossentropy",
    "regression": "mean_squared_error",
}

# The loss names, each spelled once. Keras' short names are read as the loss they name
# (`read_loss` returns the long one), so a rule never lists both.
LOSS_ALIASES = {
    "bce": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "scce": "sparse_categorical_crossentropy",
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "huber_loss": "huber",
    "logcosh": "log_cosh",
}
BINARY_CROSSENTROPIES = {"binary_crossentropy", "binary_focal_crossentropy"}
CATEGORICAL_CROSSENTROPIES = {
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "categorical_focal_crossentropy",
}
# Their output must be probabilities, or logits with from_logits=True.
CROSSENTROPY_LOSSES = BINARY_CROSSENTROPIES | CATEGORICAL_CROSSENTROPIES
BINARY_LOSSES = BINARY_CROSSENTROPIES | {"hinge", "squared_hinge"}
MULTICLASS_LOSSES = CATEGORICAL_CROSSENTROPIES | {"categorical_hinge"}
REGRESSION_LOSSES = {
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "poisson",
    "tweedie",
}


@dataclass(frozen=True)
class LossInfo:
    """The compiled loss as the advisor reads it.

    Examples:
        >>> read_loss("binary_crossentropy")
        LossInfo(name='binary_crossentropy', from_logits=False)
    """

    name: str
    from_logits: bool


@dataclass(frozen=True)
class TaskInference:
    """The task, the source that decided it, and what every source said.

    Examples:
        >>> TaskInference("binary", "loss", {"loss": "binary"}).task
        'binary'
    """

    task: str
    source: str
    votes: dict[str, str]
    findings: tuple[Finding, ...] = field(default=())


def read_loss(loss: Any) -> LossInfo | None:
    """Name and `from_logits` of a loss given as a string, a `Loss` object or a function.

    Examples:
        >>> import keras
        >>> read_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
        LossInfo(name='categorical_crossentropy', from_logits=True)
        >>> read_loss("mse")  # Keras' short names read as the loss they name
        LossInfo(name='mean_squared_error', from_logits=False)
    """
    if loss is None or isinstance(loss, (list, tuple, dict)):
        return None  # one head's loss is read at a time (see `advisor.inspection.Head.loss`)
    if isinstance(loss, str):
        return LossInfo(_canonical(loss), False)
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        return LossInfo(_canonical(snake_case(type(loss).__name__)), bool(config.get("from_logits", False)))
    name = getattr(loss, "__name__", None)
    return LossInfo(_canonical(name), False) if name else None


def _canonical(name: str) -> str:
    return LOSS_ALIASES.get(name.lower(), name.lower())


def task_from_loss(loss: LossInfo | None, output_units: int | None) -> str | None:
    """The task a loss implies, or None when it implies none.

    Examples:
        >>> task_from_loss(LossInfo("binary_crossentropy", False), 5)
        'multilabel'
    """
    if loss is None:
        return None
    if loss.name in BINARY_LOSSES:
        return "multilabel" if output_units and output_units > 1 else "binary"
    if loss.name in MULTICLASS_LOSSES:
        return "multiclass"
    if loss.name in REGRESSION_LOSSES:
        return "regression"
    return None


def task_from_output(output: LayerInfo | None) -> str | None:
    """The task an output activation implies; a linear output implies none.

    Examples:
        >>> task_from_output(LayerInfo("o", "Dense", "weight", "sigmoid", 1, None))
        'binary'
    """
    if output is None or output.activation in (None, "linear"):
        return None
    if output.activation == "softmax":
        return "multiclass" if (output.units or 0) > 1 else None
    if output.activation == "sigmoid":
        return "multilabel" if (output.units or 1) > 1 else "binary"
    return "regression"


def task_from_labels(y: Any) -> str | None:
    """The task labels imply: two classes, k classes (integers or one-hot), multi-hot, or reals.

    Examples:
        >>> task_from_labels([0, 2, 1, 2]), task_from_labels([0.5, 1.7])
        ('multiclass', 'regression')
    """
    if y is None:
        return None
    labels = np.asarray(y)
    if labels.dtype == object or not np.issubdtype(labels.dtype, np.number) and labels.dtype != bool:
        raise TypeError(f"advise: `y` must hold numbers, received dtype {labels.dtype}.")
    labels = labels.astype("float64")
    if labels.size == 0 or not np.all(np.isfinite(labels)):
        raise ValueError("advise: `y` must be a non-empty array of finite numbers.")
    if labels.ndim == 2 and labels.shape[1] == 1 or labels.ndim == 1:
        flat = labels.ravel()
        values = np.unique(flat)
        if np.all(values == np.round(values)) and values.min() >= 0:
            if set(values) <= {0.0, 1.0}:
                return "binary"
            if len(values) <= MAX_CLASSES_FROM_LABELS:
                return "multiclass"
        return "regression"
    columns = labels.reshape(len(labels), -1)
    if np.all((columns == 0) | (columns == 1)):
        return "multiclass" if np.all(columns.sum(axis=1) == 1) else "multilabel"
    if np.all(columns >= 0) and np.allclose(columns.sum(axis=1), 1.0):
        return "multiclass"  # soft labels: rows are probability distributions
    return "regression"


def output_layer(model: keras.Model) -> LayerInfo | None:
    """The node that decides the model's first output activation (see `advisor.inspection.Head`).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Softmax()])
        >>> output_layer(model).activation
        'softmax'
    """
    heads = view(model).heads
    return heads[0].layer if heads else None


def infer_head_task(head: Head, task: str | None = None, y: Any = None, name_head: bool = False) -> TaskInference:
    """Decide one output's task from the highest source that has an opinion; note disagreements.

    `name_head`: name the head in the findings (for a model with several outputs).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> infer_head_task(view(model).heads[0], y=[0, 1, 2]).task
        'multiclass'
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"advise: `task` must be one of {', '.join(TASKS)} or None, received {task!r}.")
    output = head.layer
    loss = read_loss(head.loss)
    votes = {
        source: vote
        for source, vote in (
            ("argument", task),
            ("loss", task_from_loss(loss, head.units)),
            ("output", task_from_output(output)),
            ("labels", task_from_labels(y)),
        )
        if vote is not None
    }
    findings: list[Finding] = []
    where = head.name if name_head else None
    if votes:
        source, decided = next(iter(votes.items()))
    else:
        source, decided = "default", "regression"
        findings.append(
            TASK_ASSUMED.finding(
                None,
                "Nothing says what the task is (no task=, no compiled loss, a linear output, no "
                "labels); assuming regression.",
                head=where,
            )
        )
    if len(set(votes.values())) > 1:
        findings.append(_disagreement(votes, source, decided, where))
    return TaskInference(decided, source, votes, tuple(findings))


def _disagreement(votes: dict[str, str], source: str, decided: str, head: str | None) -> Finding:
    """The task-sources-disagree finding, its fix naming the sources that differ from `source`."""
    said = ", ".join(f"{s}: {t}" for s, t in votes.items())
    message = f"The task sources disagree ({said}); using {decided!r} from the {source}."
    others = [s for s, t in votes.items() if t != decided]
    if source == "argument" and "loss" in others:
        output = " and an output activation for it" if "output" in others else ""
        fix = (
            f"If the task is {decided}, compile the model with a {decided} loss (e.g. "
            f"{LOSS_FOR_TASK[decided]}){output}; if the model is right, drop task= (its loss trains "
            f"{votes['loss']})."
        )
        return TASK_SOURCES_DISAGREE.finding(None, message, fix, severity="warning", head=head)
    fix = (
        f"Check the {' and the '.join(others)} against the {source} ({decided}); pass task= if "
        f"{decided!r} is not the task."
    )
    return TASK_SOURCES_DISAGREE.finding(None, message, fix, severity="info", head=head)


def infer_task(model: keras.Model | ModelView, task: str | None = None, y: Any = None) -> TaskInference:
    """The task of the model's first output (see `infer_head_task`).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> infer_task(model, y=[0, 1, 2]).task
        'multiclass'
    """
    model_view = model if isinstance(model, ModelView) else view(model)
    return infer_head_task(model_view.heads[0], task, y)


def trains_on_logits(head: Head) -> bool:
    """Whether a head is a linear output trained with a `from_logits=True` loss (logits are the
    stable form: they stay).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> trains_on_logits(view(model).heads[0])
        True
    """
    loss = read_loss(head.loss)
    return head.activation == "linear" and bool(loss and loss.from_logits)


def training_loss(
    model: keras.Model | ModelView, task: str, output: LayerInfo | None, y: Any = None, head: int = 0
) -> Any:
    """The loss an output (`head`, by position; the first by default) of the model (or its
    `ModelView`) trains with: its compiled loss, else the usual one for the task.

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> loss = training_loss(model, "multiclass", output_layer(model), [0, 2])
        >>> type(loss).__name__, loss.get_config()["from_logits"]
        ('SparseCategoricalCrossentropy', True)
    """
    heads = (model if isinstance(model, ModelView) else view(model)).heads
    compiled = heads[head].loss if head < len(heads) else None
    if compiled is not None:
        return keras.losses.get(compiled)
    logits = output is None or output.activation in (None, "linear")
    if task in ("binary", "multilabel"):
        return keras.losses.BinaryCrossentropy(from_logits=logits)
    if task == "multiclass":
        sparse = y is None or np.asarray(y).ndim == 1 or np.asarray(y).shape[-1] == 1
        cls = keras.losses.SparseCategoricalCrossentropy if sparse else keras.losses.CategoricalCrossentropy
        return cls(from_logits=logits)
    return keras.losses.MeanSquaredError()
