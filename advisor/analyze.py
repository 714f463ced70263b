"""`advise()`: read a model (and optionally its labels) and recommend activations."""

from __future__ import annotations

from typing import Any

import keras

from . import diagnostics, recommend, rules
from .advice import Advice, HeadAdvice
from .inspection import Functional, ModelView, view
from .sample import prepare_sample
from .task import TaskInference, infer_head_task, training_loss, trains_on_logits


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
            raise ValueError(f"advise: `{name}` names outputs {unknown} the model does not have; "
                             f"its outputs are {names}.")
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
    return HeadAdvice(head.name, inference.task, inference.source, head.activation, rule.choice,
                      initializer, f"{rule.applies_to}: {_cite(rule)}")


def advise(model: Any, task: str | dict[str, str] | None = None, x: Any = None, y: Any = None,
           max_samples: int = diagnostics.MAX_SAMPLES) -> Advice:
    """Recommend hidden and output activations, initializers and input scaling for `model`.

    The hidden rule depends on the architecture family (`advisor.recommend.family_of`): plain
    dense and conv stacks get the measured depth rules; normalized, residual, attention and
    recurrent designs keep their own activation when it fits the family (ResNet's ReLU,
    EfficientNet's swish, ConvNeXt's GELU), and a change is advised only on evidence.

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
    if not isinstance(model, (keras.Sequential, Functional)):
        raise ValueError(
            f"advise reads Sequential and Functional models; {type(model).__name__} is a subclassed "
            "model whose layer graph cannot be read. Wrap its layers in a Functional model "
            "(keras.Model(inputs, outputs)) to advise it.")
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("advise: the model must be built (give it a keras.Input or call build()).")
    model_view = view(model)
    tasks = _per_head(model_view, task, "task")
    labels = _per_head(model_view, y, "y")
    if x is not None:
        x, first_y = prepare_sample(model, x, labels[0], max_samples)
        labels = [first_y] + [None] * (len(labels) - 1)  # the other heads' labels are not sampled with x
    named = len(model_view.heads) > 1
    inferences = [infer_head_task(head, t, labels_i, named)
                  for head, t, labels_i in zip(model_view.heads, tasks, labels)]
    heads = [_head_advice(inference, head, labels_i)
             for inference, head, labels_i in zip(inferences, model_view.heads, labels)]

    depth = model_view.depth
    family = recommend.family_of(model_view)
    own = model_view.own_hidden_activation
    diagnosis = None
    if x is not None:
        loss = training_loss(model_view, inferences[0].task, model_view.heads[0].layer, labels[0])
        diagnosis = diagnostics.Diagnoser(model, loss, model_view).measure(x, labels[0])
    hidden = recommend.hidden_rule(depth, family, own, dead_units=bool(diagnosis and diagnosis.dead_units))
    kept = hidden.applies_to == recommend.HIDDEN_RULES["keep"].applies_to  # the keep rule names `own`
    own_initializer = _valid_initializer(model_view.own_hidden_initializer)
    if kept and own_initializer:
        hidden_init, init_rule = own_initializer, recommend.INITIALIZER_RULES["keep"]
    else:
        hidden_init = recommend.initializer_for(
            hidden.choice, model_view.own_hidden_start if hidden.choice == own else None)
        init_rule = recommend.INITIALIZER_RULES[hidden_init]
    input_range = recommend.input_range_for(hidden.choice)
    # Range advice is for the inputs that reach a weight layer as raw numbers; where there are
    # none, the model scales or encodes every input itself.
    in_model = [] if model_view.raw_inputs else list(dict.fromkeys(
        name for model_input in model_view.inputs for name in model_input.scaled_by + model_input.encoded_by))
    range_rule = recommend.INPUT_RANGE_RULES[
        ("in-model" if model_view.input_scaling else "encoded") if in_model
        else "standardized" if input_range is None else "minus-one-one" if input_range[0] < 0 else "zero-one"
    ]
    frozen = [site for site in model_view.sites if site.role == "frozen"]
    reasons = {
        "hidden_activation": f"{hidden.applies_to}: {_cite(hidden)}" + (
            f"; the {len(frozen)} activation(s) of frozen layers are kept (their weights were trained "
            "with them)" if frozen else ""),
        "output_activation": heads[0].reason,
        "hidden_initializer": _cite(init_rule),
        "output_initializer": _cite(recommend.INITIALIZER_RULES.get(
            heads[0].output_initializer, recommend.INITIALIZER_RULES["keep"])),
        "input_range": _cite(range_rule),
    }
    context = rules.ModelContext(
        view=model_view,
        heads=rules.head_contexts(model_view, [i.task for i in inferences], labels),
        advised_activation=hidden.choice,
        advised_initializer=hidden_init,
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
        candidates=recommend.candidates_for(hidden.choice, depth, family, own),
        reasons=reasons,
        findings=rules.order(findings),
        diagnostics=diagnosis.sites if diagnosis else [],
        input_summary=diagnosis.inputs if diagnosis else None,
        heads=heads,
        family=family,
        kept=kept,
        input_preprocessing=in_model,
    )
