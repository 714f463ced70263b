"""The one-by-one path: a Keras `fit()` per execution, with Keras' own `EarlyStopping`.

It trains anything the others refuse: several outputs (Keras' `fit` weighs each output's loss),
an optimizer that clips the global norm of all gradients, sample weights where vectorizing is
refused, a dataset too large to hold (`advisor.data.StreamedData`, which each `fit` reads batch
by batch), a model too large to hold twice (`TOGETHER_WEIGHTS_LIMIT`), and on request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from ._keras_compat import as_input_structure
from .data import StreamedData
from .row_training import Execution, Job, RowTraining, score, take_rows
from .sample import with_text_as_tensors


class OneByOne:
    """The one-by-one `TrainingPath`: never refused; trains the job's first execution.

    Examples:
        >>> ONE_BY_ONE.name, ONE_BY_ONE.refusal(None)
        ('one by one', None)
    """

    name = "one by one"

    def refusal(self, job: Job) -> str | None:
        """None: a lone `fit` trains any model on any data."""
        return None

    def train(self, job: Job, progress: Callable[[int], None]) -> list[Execution]:
        """Compile and fit the job's first execution's model alone."""
        model = job.models(1)[0]
        if isinstance(job.x, StreamedData):
            x_val, *rest = job.validation
            validation = (
                x_val.dataset
                if isinstance(x_val, StreamedData)
                else (with_text_as_tensors(as_input_structure(model, x_val)), *rest)
            )
            return [
                fit_alone(
                    job.spec,
                    model,
                    progress,
                    x=job.x.dataset,
                    steps_per_epoch=job.x.steps,
                    class_weight=job.x.class_weight,
                    validation_data=validation,
                )
            ]
        own = job.own_data[0]
        rows = own.train_rows
        validation = (with_text_as_tensors(as_input_structure(model, own.x_val)), own.y_val) + (
            () if own.weight_val is None else (own.weight_val,)
        )
        return [
            fit_alone(
                job.spec,
                model,
                progress,
                x=with_text_as_tensors(as_input_structure(model, take_rows(job.x, rows))),
                y=take_rows(job.y, rows),
                sample_weight=take_rows(job.sample_weight, rows),
                validation_data=validation,
                batch_size=job.spec.batch_size,
                shuffle=job.spec.shuffle,
            )
        ]


ONE_BY_ONE = OneByOne()


def fit_alone(spec: RowTraining, model: keras.Model, progress: Callable[[int], None], **data: Any) -> Execution:
    """Compile `model` and `fit` it on `data` (fit's own arguments), with Keras' early stop.

    Examples:
        >>> import numpy as np
        >>> x = np.zeros((8, 2), "float32")
        >>> row = RowTraining(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        ...                   "mse", [], keras.optimizers.Adam, "val_loss", False, epochs=2)
        >>> fit_alone(row, row.build(), lambda done: None, x=x, y=x[:, :1], validation_data=(x, x[:, :1])).epochs
        2
    """
    with spec.scope():
        model.compile(optimizer=spec.optimizer(), loss=spec.loss, metrics=spec.metrics, loss_weights=spec.loss_weights)
    stop = keras.callbacks.EarlyStopping(
        monitor=spec.objective, mode="max" if spec.higher_is_better else "min", patience=spec.patience
    )
    epochs = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(epoch + 1))
    history = model.fit(**data, epochs=spec.epochs, callbacks=[stop, epochs], verbose=0).history
    if spec.objective not in history:
        raise ValueError(
            f"confirm: training reports no {spec.objective!r} to rank by; it reports "
            f"{', '.join(sorted(history))}. Pass one of them as `objective`."
        )
    return score(history, spec.objective, "val_accuracy", spec.patience, spec.higher_is_better)
