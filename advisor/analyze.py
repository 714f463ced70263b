"""`advise()`: read a model (and optionally its labels) and recommend activations."""

from __future__ import annotations

from typing import Any

import keras

from advisor import diagnostics, recommend, rules
from advisor.advice import Advice
from advisor.inspection import inspect_model
from advisor.sample import prepare_sample
from advisor.task import infer_task, output_layer, read_loss, training_loss


def _cite(rule: recommend.Rule) -> str:
    return f"{rule.reason} ({rule.source})"


def advise(model: Any, task: str | None = None, x: Any = None, y: Any = None,
           max_samples: int = diagnostics.MAX_SAMPLES) -> Advice:
    """Recommend hidden and output activations, initializers and input scaling for `model`.

    Args:
        model: a built `keras.Model` (Sequential or Functional). It is only read.
        task: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``; inferred from
            the compiled loss, the output layer or `y` when None.
        x: sample inputs (NumPy arrays or a batched `tf.data.Dataset` of x or (x, y)). With them
            the advice carries `diagnostics` (dead and saturated units, gradient norms per
            activation site) and `input_summary`, and the data findings (`dead-units`,
            `saturated-units`, `vanishing-gradient`, `exploding-gradient`, `input-scale`,
            `nan-output`); see `advisor.diagnostics` for the thresholds.
        y: sample labels; they help infer the task, refine the output activation, check that
            the labels fit the output, and give the gradient norms.
        max_samples: the most rows of `x` to use (drawn reproducibly).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> advice = advise(model)
        >>> advice.task, advice.hidden_activation, advice.output_activation
        ('binary', 'relu', 'sigmoid')
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"advise expects a keras.Model, received {type(model).__name__}: {model!r:.80}")
    if not model.built or not model.inputs:
        raise ValueError("advise: the model must be built (give it a keras.Input or call build()).")
    if x is not None:
        x, y = prepare_sample(model, x, y, max_samples)
    layers = inspect_model(model)
    inference = infer_task(model, task, y)
    weight_layers = [info for info in layers if info.has_weights]
    depth = max(0, len(weight_layers) - 1)
    hidden = recommend.hidden_rule(
        depth,
        has_recurrent=any(info.kind == "recurrent" for info in layers),
        has_attention=any(info.kind == "attention" for info in layers),
    )
    output = recommend.output_rule(inference.task, y)
    hidden_init = recommend.initializer_for(hidden.choice)
    input_range = recommend.input_range_for(hidden.choice)
    range_rule = recommend.INPUT_RANGE_RULES[
        "standardized" if input_range is None else "minus-one-one" if input_range[0] < 0 else "zero-one"
    ]
    reasons = {
        "hidden_activation": f"{hidden.applies_to}: {_cite(hidden)}",
        "output_activation": f"{output.applies_to}: {_cite(output)}",
        "hidden_initializer": _cite(recommend.INITIALIZER_RULES[hidden_init]),
        "output_initializer": _cite(recommend.INITIALIZER_RULES[recommend.initializer_for(output.choice)]),
        "input_range": _cite(range_rule),
    }
    context = rules.ModelContext(
        layers=layers,
        keras_layers={layer.name: layer for layer in model.layers},
        task=inference.task,
        loss=read_loss(getattr(model, "loss", None)),
        depth=depth,
        output=output_layer(model),
        y=y,
    )
    findings = list(inference.findings) + rules.check(context)
    diagnosis = None
    if x is not None:
        loss = training_loss(model, inference.task, context.output, y)
        diagnosis = diagnostics.Diagnoser(model, loss).measure(x, y)
        findings += diagnosis.findings
    return Advice(
        task=inference.task,
        task_source=inference.source,
        depth=depth,
        hidden_activation=hidden.choice,
        output_activation=output.choice,
        hidden_initializer=hidden_init,
        output_initializer=recommend.initializer_for(output.choice),
        input_range=input_range,
        candidates=recommend.candidates_for(hidden.choice, depth),
        reasons=reasons,
        findings=rules.order(findings),
        diagnostics=diagnosis.sites if diagnosis else [],
        input_summary=diagnosis.inputs if diagnosis else None,
    )
