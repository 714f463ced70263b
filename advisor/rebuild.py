"""`apply()`: a new model with the advice carried out and fresh weights; the original is untouched.

The new model has the same layer graph and shapes. What changes:

- Every hidden activation site becomes `advice.hidden_activation`, however it was written (a
  weight layer's `activation` argument, an `Activation` layer, a Keras or keras_act activation
  layer). Two exceptions keep their activation: recurrent cells (their gates need tanh/sigmoid),
  and gates, an activation whose output feeds a `Multiply` (a squeeze-excitation sigmoid, a GLU).
- The output site of the (first) model output becomes `advice.output_activation`, unless it is a
  linear output trained on logits (`from_logits=True`): logits are the stable form and stay.
- A weight layer that feeds an activation layer loses its own activation (the layer that follows
  carries it), which also resolves `double-activation`; a hidden weight layer flagged
  `linear-hidden` gets the hidden activation.
- Kernel initializers become `advice.hidden_initializer` / `advice.output_initializer` (a gate's
  kernel gets the initializer that fits its activation; recurrent and attention layers keep theirs).
- A compiled model is compiled again with a fresh optimizer of the same config and the same loss,
  metrics and options; a `from_logits=True` crossentropy on an output that now squashes gets
  `from_logits=False` (the `output-loss-mismatch` fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

import keras_act
from advisor.advice import Advice
from advisor.inspection import (WEIGHT_LAYERS, Functional, LayerGraph, LayerInfo, feeding_weight_layer,
                                inspect_model, output_sites)
from advisor.recommend import initializer_for
from advisor.task import output_layer, read_loss

SQUASHING_OUTPUTS = ("sigmoid", "softmax")
# Config keys of the kernels a weight layer may hold (Dense/Conv, separable and depthwise convs).
KERNEL_INITIALIZER_KEYS = ("kernel_initializer", "depthwise_initializer", "pointwise_initializer")
GATE_CONSUMERS = ("Multiply",)


@dataclass(frozen=True)
class LayerChange:
    """What `apply` does to one layer: its new activation and kernel initializer (None: keep)."""

    activation: str | None = None
    initializer: str | None = None


def _check_arguments(model: Any, advice: Any) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"apply expects a keras.Model, received {type(model).__name__}: {model!r:.80}")
    if not isinstance(advice, Advice):
        raise TypeError(f"apply expects an advisor.Advice as `advice`, received {type(advice).__name__}.")
    if not isinstance(model, (keras.Sequential, Functional)):
        raise ValueError(
            f"apply supports Sequential and Functional models; {type(model).__name__} is a subclassed "
            "model whose layer graph cannot be rebuilt. Rebuild it yourself with the advice's values."
        )
    for name in ("hidden_activation", "output_activation"):
        if getattr(advice, name) not in keras_act.names():
            raise ValueError(f"apply: advice.{name} must be one of {', '.join(keras_act.names())}, "
                             f"received {getattr(advice, name)!r}.")
    for name in ("hidden_initializer", "output_initializer"):
        try:
            keras.initializers.get(getattr(advice, name))
        except (ValueError, TypeError) as error:
            raise ValueError(f"apply: advice.{name} must be a Keras initializer name, "
                             f"received {getattr(advice, name)!r}.") from error


def _is_gate(graph: LayerGraph, info: LayerInfo) -> bool:
    following = graph.next_layer(info)
    return following is not None and following.class_name in GATE_CONSUMERS


def _output_activation(advice: Advice, output: LayerInfo, from_logits: bool) -> str:
    if output.activation in (None, "linear") and from_logits:
        return "linear"
    return advice.output_activation


def plan_changes(model: keras.Model, advice: Advice) -> dict[str, LayerChange]:
    """Per layer name, the activation and initializer `apply` gives it.

    Example:
        >>> import keras
        >>> from advisor import advise
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="sigmoid"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> changes = plan_changes(model, advise(model))
        >>> changes[model.layers[0].name]
        LayerChange(activation='relu', initializer='he_normal')
    """
    graph = LayerGraph(inspect_model(model))
    loss = read_loss(getattr(model, "loss", None))
    changes: dict[str, LayerChange] = {}
    # Outputs other than the first keep their activation and initializer: the advice is for one task.
    kept = {info.name for site in output_sites(model, graph)[1:] for info in site}
    output = output_layer(model)
    if output is not None and output.kind in ("weight", "activation"):
        new_output = _output_activation(advice, output, bool(loss and loss.from_logits))
        output_weights = output if output.kind == "weight" else feeding_weight_layer(graph, output)
        changes[output.name] = LayerChange(new_output)
        if output_weights is not None:
            own = new_output if output_weights is output else "linear"
            changes[output_weights.name] = LayerChange(own, advice.output_initializer)
    linear_hidden = {f.layer for f in advice.findings if f.code == "linear-hidden"}
    for info in graph.layers:
        if info.name in changes or info.name in kept or info.kind not in ("weight", "activation"):
            continue
        activation = _hidden_activation(graph, info, advice, info.name in linear_hidden)
        if info.kind == "weight":
            gate = _gate_activation(graph, info)
            initializer = initializer_for(gate) if gate else advice.hidden_initializer
            changes[info.name] = LayerChange(activation, initializer)
        elif activation is not None:
            changes[info.name] = LayerChange(activation)
    return changes


def _gate_activation(graph: LayerGraph, info: LayerInfo) -> str | None:
    """The activation a weight layer's kernel feeds when that activation is a gate, else None."""
    site = info if info.activation not in (None, "linear") else graph.next_layer(info)
    if site is not None and site.activation not in (None, "linear") and _is_gate(graph, site):
        return site.activation
    return None


def _hidden_activation(graph: LayerGraph, info: LayerInfo, advice: Advice, flagged_linear: bool) -> str | None:
    """The new activation of a hidden activation site (None: keep what it has)."""
    if info.activation in (None, "linear"):
        return advice.hidden_activation if flagged_linear else None
    if _is_gate(graph, info):
        return None
    following = graph.next_layer(info)
    if following is not None and following.kind == "activation" and following.activation != "linear":
        return "linear"  # the activation layer that follows carries the activation
    return advice.hidden_activation


def _clone_layer(layer: keras.layers.Layer, changes: dict[str, LayerChange]) -> keras.layers.Layer:
    config = layer.get_config()
    change = changes.get(layer.name)
    if change is None:
        return layer.__class__.from_config(config)
    if isinstance(layer, WEIGHT_LAYERS):
        if change.activation is not None:
            config["activation"] = ("linear" if change.activation == "linear"
                                    else keras_act.get(change.activation))
        if change.initializer is not None:
            for key in KERNEL_INITIALIZER_KEYS:
                if key in config:
                    config[key] = change.initializer
        return layer.__class__.from_config(config)
    # An activation layer: replaced by the keras_act layer of the new activation, same name.
    return keras_act.get({"class_name": change.activation,
                          "config": {"name": layer.name, "dtype": config.get("dtype")}})


def _same_inputs(model: keras.Model) -> Any:
    """Fresh inputs with the original names (clone_model would rename them, breaking dict inputs)."""
    if isinstance(model, keras.Sequential):
        return None

    def fresh(tensor: Any) -> Any:
        layer = tensor._keras_history.operation
        return keras.Input(batch_shape=layer.batch_shape, dtype=layer.dtype, sparse=layer.sparse,
                           name=layer.name)

    return keras.tree.map_structure(fresh, model.input)


def _compile_arguments(model: keras.Model, output_activation: str) -> dict[str, Any]:
    """The original compile arguments, deserialized afresh (a new optimizer), loss fixed."""
    arguments = keras.saving.deserialize_keras_object(model.get_compile_config())
    loss = arguments.get("loss")
    first = loss[0] if isinstance(loss, (list, tuple)) and loss else loss
    info = read_loss(first)
    if info and info.from_logits and output_activation in SQUASHING_OUTPUTS:
        fixed = first.__class__.from_config({**first.get_config(), "from_logits": False})
        arguments["loss"] = [fixed, *loss[1:]] if first is not loss else fixed
    return arguments


def apply(model: keras.Model, advice: Advice) -> keras.Model:
    """A new model with `advice` carried out: same graph and shapes, fresh weights.

    Hidden and output activations and kernel initializers are replaced (see the module
    docstring for the exact rules); a compiled model is compiled again with the same loss (fixed
    where a finding said so) and a fresh optimizer of the same config. `model` is not modified.

    Args:
        model: a Sequential or Functional `keras.Model`.
        advice: what `advise(model)` returned, possibly edited (e.g. with
            `dataclasses.replace(advice, hidden_activation="tanh", hidden_initializer="glorot_uniform")`).

    Example:
        >>> import keras
        >>> from advisor import advise, apply
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="sigmoid"),
        ...                           keras.layers.Dense(3, activation="relu")])
        >>> model.compile("adam", "sparse_categorical_crossentropy")
        >>> new = apply(model, advise(model))
        >>> type(new.layers[0].activation).__name__, type(new.layers[-1].activation).__name__
        ('ReLU', 'Softmax')
        >>> model.layers[0].activation.__name__
        'sigmoid'
    """
    _check_arguments(model, advice)
    changes = plan_changes(model, advice)
    new_model = keras.models.clone_model(
        model, input_tensors=_same_inputs(model),
        clone_function=lambda layer: _clone_layer(layer, changes),
    )
    if getattr(model, "compiled", False) and model.get_compile_config():
        output = output_layer(model)
        output_activation = changes[output.name].activation if output and output.name in changes else None
        new_model.compile(**_compile_arguments(model, output_activation or ""))
    return new_model
