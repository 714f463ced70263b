"""`advise()`: read a model (and optionally its labels) and recommend activations."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from . import atlas, diagnostics, recommend, rules
from .advice import Advice, HeadAdvice
from .inspection import Functional, ModelView, view
from .layer_arguments import custom_layer_arguments
from .sample import prepare_sample
from .task import TaskInference, infer_head_task, training_loss, trains_on_logits
from .verdict import SEPARATOR, configuration_key


def _cite(rule: recommend.Rule) -> str:
    return f"{rule.reason} ({rule.source})"


def _per_head(model_view: ModelView, value: Any, name: str) -> list[Any]:
    """`value` (a task or labels) for each head: a dict by output name, a list/tuple by position
    (for several heads), else the value for the first head and None for the others."""
    heads = model_view.heads
    names = [head.name for head in heads]
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"advise: `{name}` names outputs {unknown} the model does not have; its outputs are {names}."
            )
        return [value.get(head) for head in names]
    if len(heads) > 1 and isinstance(value, (list, tuple)) and len(value) == len(heads):
        return list(value)
    return [value] + [None] * (len(heads) - 1)


def _valid_initializer(name: str | None) -> str | None:
    try:
        return name if name and keras.initializers.get(name) is not None else None
    except (ValueError, TypeError):
        return None


def _head_advice(inference: TaskInference, head: Any, y: Any) -> HeadAdvice:
    """A head's advice; a head whose activation is already right keeps its initializer too."""
    rule = recommend.output_rule(inference.task, y, trains_on_logits(head))
    initializer = recommend.initializer_for(rule.choice)
    if rule.choice == head.activation and head.weight is not None:
        initializer = _valid_initializer(head.weight.kernel_initializer) or initializer
    return HeadAdvice(
        head.name,
        inference.task,
        inference.source,
        head.activation,
        rule.choice,
        initializer,
        f"{rule.applies_to}: {_cite(rule)}",
    )


def _input_width(model: Any, model_view: ModelView) -> int | None:
    """Numbers per example at the model's inputs (as the atlas counts its tasks' features), or None
    where that is unknown or not what the first layer sees (inputs the model encodes: text, lookups)."""
    shapes = [tuple(tensor.shape[1:]) for tensor in (getattr(model, "inputs", None) or [])]
    if (
        not shapes
        or any(d is None for shape in shapes for d in shape)
        or any(model_input.encoded_by for model_input in model_view.inputs)
    ):
        return None
    return int(sum(math.prod(shape) for shape in shapes))


def _measured(model: Any, model_view: ModelView, family: str, task: str, y: Any) -> atlas.Evidence | None:
    """The atlas's evidence for this model's task (its targets' mean and spread from `y`), or None."""
    own, own_initializer = model_view.own_hidden_activation, model_view.own_hidden_initializer
    mean = std = None
    if task == "regression" and y is not None:
        targets = np.asarray(y, dtype="float64")
        mean, std = float(targets.mean()), float(targets.std())
    profile = atlas.TaskProfile(family, model_view.depth, task, _input_width(model, model_view), mean, std)
    return atlas.evidence_for(profile, configuration_key(own, own_initializer) if own and own_initializer else None)


def _candidates(
    evidence: atlas.Evidence | None, choice: str, depth: int, family: str, own: str | None, glu: bool = False
) -> list[str]:
    """The activations for confirm() to test: the atlas's candidates where it has evidence (the
    choice first, the model's own last), else the rules of thumb's. Keras' defaults and the
    model's own pair are not repeated: confirm() adds both pairs itself."""
    if evidence is None:
        return recommend.candidates_for(choice, depth, family, own, glu)
    measured = [
        configuration.split(SEPARATOR)[0]
        for configuration in evidence.candidates
        if configuration not in (atlas.KERAS_DEFAULTS, evidence.own)
    ]
    return list(dict.fromkeys([choice, *measured, *([own] if own else [])]))


def _evidence_reason(evidence: atlas.Evidence) -> str:
    if evidence.kept and evidence.estimates:
        best = next(iter(evidence.estimates))
        return (
            f"measured: the choice does not matter on a task like this one: the atlas's ranking model gives "
            f"your {evidence.pick} an estimated {evidence.estimates[evidence.pick]:.0%} chance of being within "
            f"noise of the best, the likeliest ({best}) {evidence.estimates[best]:.0%}, so yours is kept "
            f"(on {evidence.tasks} similar tasks ({evidence.cell}): yours {evidence.rates[evidence.pick]:.0%}; "
            "the activation atlas, benchmarks/atlas.py; `keras-act atlas` shows the table)"
        )
    if evidence.kept:
        best = next(iter(evidence.rates))
        return (
            f"measured: on {evidence.tasks} similar tasks ({evidence.cell}) the choice does not matter: your "
            f"{evidence.pick} is within noise of the best on {evidence.rates[evidence.pick]:.0%}, the most "
            f"often best ({best}) on {evidence.rates[best]:.0%}, so yours is kept (the activation atlas, "
            "benchmarks/atlas.py; `keras-act atlas` shows the table)"
        )
    return (
        f"measured: {evidence.summary()} (the activation atlas, benchmarks/atlas.py; `keras-act atlas` shows the table)"
    )


def advise(
    model: Any,
    task: str | dict[str, str] | None = None,
    x: Any = None,
    y: Any = None,
    max_samples: int = diagnostics.MAX_SAMPLES,
) -> Advice:
    """Recommend hidden and output activations, initializers and input scaling for `model`.

    The hidden activation comes from measurements where there are enough: the activation atlas
    (`advisor.atlas`) gives, for tasks like this one (family, depth, task, the input's width,
    the targets' mean and spread from `y`), the configuration its ranking model finds likeliest
    to be within noise of the best, or keeps the model's own where it is about as likely;
    `advice.evidence` holds the figures. Elsewhere the rules of thumb
    answer by architecture family (`advisor.recommend.family_of`): plain conv stacks get the
    depth rules; normalized, residual, attention and recurrent designs keep their own
    activation when it fits the family (ResNet's ReLU, EfficientNet's swish, ConvNeXt's GELU),
    and a change is advised only on evidence.

    Args:
        model: a built `keras.Model` (Sequential or Functional). It is only read.
        task: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``; inferred from
            each output's compiled loss, its output layer or `y` when None. For a model with
            several outputs a dict by output name (a string applies to the first output).
        x: sample inputs, as `model.fit` takes them: NumPy arrays (strings for a text input), a
            list or dict of them, or a `tf.data.Dataset` / `keras.utils.PyDataset` of x or (x, y). With them
            the advice carries `diagnostics` (dead and saturated units, gradient norms per
            activation site) and `input_summary`, and the data findings (`dead-units`,
            `saturated-units`, `vanishing-gradient`, `exploding-gradient`, `input-scale`,
            `nan-output`); see `advisor.diagnostics` for the thresholds.
        y: sample labels (a dict by output name, or a list, for several outputs); they help
            infer the task, refine the output activation, check that the labels fit the output,
            and give the gradient norms.
        max_samples: the most rows of `x` to use (drawn reproducibly).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> advice = advise(model)
        >>> advice.task, advice.output_activation
        ('binary', 'sigmoid')
        >>> advice.hidden_activation == advice.candidates[0]  # measured in the atlas, or the rules'
        True
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"advise expects a keras.Model, received {type(model).__name__}: {model!r:.80}")
    if not isinstance(model, (keras.Sequential, Functional)):
        raise ValueError(
            f"advise reads Sequential and Functional models; {type(model).__name__} is a subclassed "
            "model whose layer graph cannot be read. Wrap its layers in a Functional model "
            "(keras.Model(inputs, outputs)) to advise it."
        )
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("advise: the model must be built (give it a keras.Input or call build()).")
    model_view = view(model)
    tasks = _per_head(model_view, task, "task")
    labels = _per_head(model_view, y, "y")
    if x is not None:
        x, first_y = prepare_sample(model, x, labels[0], max_samples)
        labels = [first_y] + [None] * (len(labels) - 1)  # the other heads' labels are not sampled with x
    named = len(model_view.heads) > 1
    inferences = [
        infer_head_task(head, t, labels_i, named) for head, t, labels_i in zip(model_view.heads, tasks, labels)
    ]
    heads = [
        _head_advice(inference, head, labels_i)
        for inference, head, labels_i in zip(inferences, model_view.heads, labels)
    ]

    depth = model_view.depth
    family = recommend.family_of(model_view)
    own = model_view.own_hidden_activation
    diagnosis = None
    if x is not None:
        loss = training_loss(model_view, inferences[0].task, model_view.heads[0].layer, labels[0])
        diagnosis = diagnostics.Diagnoser(model, loss, model_view).measure(x, labels[0])
    dead_units = bool(diagnosis and diagnosis.dead_units)
    # The atlas measured plain feed-forwards, not GLUs: for GLU blocks the rules answer.
    evidence = None if model_view.has_glu else _measured(model, model_view, family, inferences[0].task, labels[0])
    if evidence is not None and not (dead_units and evidence.activation in ("relu", "relu6")):
        hidden = recommend.Rule(str(evidence.cell), evidence.activation, _evidence_reason(evidence), "")
        hidden_reason = hidden.reason
        kept = evidence.kept
        hidden_init = evidence.initializer
        init_reason = f"measured with {evidence.activation} in the activation atlas ({evidence.pick})"
    else:  # the rules of thumb, where the atlas has no evidence (or the data shows dead units)
        hidden = recommend.hidden_rule(depth, family, own, dead_units=dead_units, glu=model_view.has_glu)
        hidden_reason = f"{hidden.applies_to}: {_cite(hidden)}"
        kept = hidden.applies_to == recommend.HIDDEN_RULES["keep"].applies_to  # the keep rule names `own`
        own_initializer = _valid_initializer(model_view.own_hidden_initializer)
        if kept and own_initializer:
            hidden_init, init_rule = own_initializer, recommend.INITIALIZER_RULES["keep"]
        else:
            hidden_init = recommend.initializer_for(
                hidden.choice, model_view.own_hidden_start if hidden.choice == own else None
            )
            init_rule = recommend.INITIALIZER_RULES[hidden_init]
        init_reason = _cite(init_rule)
    input_range = recommend.input_range_for(hidden.choice)
    # Range advice is for the inputs that reach a weight layer as raw numbers; where there are
    # none, the model scales or encodes every input itself.
    in_model = (
        []
        if model_view.raw_inputs
        else list(
            dict.fromkeys(
                name for model_input in model_view.inputs for name in model_input.scaled_by + model_input.encoded_by
            )
        )
    )
    range_rule = recommend.INPUT_RANGE_RULES[
        ("in-model" if model_view.input_scaling else "encoded")
        if in_model
        else "standardized"
        if input_range is None
        else "minus-one-one"
        if input_range[0] < 0
        else "zero-one"
    ]
    frozen = [site for site in model_view.sites if site.role == "frozen"]
    reasons = {
        "hidden_activation": hidden_reason
        + (
            f"; the {len(frozen)} activation(s) of frozen layers are kept (their weights were trained with them)"
            if frozen
            else ""
        ),
        "output_activation": heads[0].reason,
        "hidden_initializer": init_reason,
        "output_initializer": _cite(
            recommend.INITIALIZER_RULES.get(heads[0].output_initializer, recommend.INITIALIZER_RULES["keep"])
        ),
        "input_range": _cite(range_rule),
    }
    context = rules.ModelContext(
        view=model_view,
        heads=rules.head_contexts(model_view, [i.task for i in inferences], labels),
        advised_activation=hidden.choice,
        advised_initializer=hidden_init,
        measured_kept=bool(evidence and evidence.kept and hidden.choice == evidence.activation),
    )
    findings = [f for inference in inferences for f in inference.findings] + rules.check(context)
    if diagnosis is not None:
        findings += diagnosis.findings((hidden.choice, hidden_init))
    return Advice(
        task=heads[0].task,
        task_source=heads[0].task_source,
        depth=depth,
        hidden_activation=hidden.choice,
        output_activation=heads[0].output_activation,
        hidden_initializer=hidden_init,
        output_initializer=heads[0].output_initializer,
        input_range=input_range,
        candidates=_candidates(evidence, hidden.choice, depth, family, own, model_view.has_glu),
        reasons=reasons,
        findings=rules.order(findings),
        diagnostics=diagnosis.sites if diagnosis else [],
        input_summary=diagnosis.inputs if diagnosis else None,
        heads=heads,
        family=family,
        kept=kept,
        input_preprocessing=in_model,
        evidence=evidence,
        fixed=[str(fixed) for fixed in custom_layer_arguments(model_view)[1]],
    )
