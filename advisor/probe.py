"""One forward and one backward pass that see inside a model: every activation site's output and
the loss gradient of every kernel, without changing the model.

The probe is a Functional model that shares the original's layers (and so its weights) and
outputs the model's first output plus each tapped layer's output. It runs as the model will
train: dropout off, and `BatchNormalization` layers whose moving statistics are still at their
initial values normalize with the batch's own statistics (in inference mode an untrained BN
passes raw inputs through, and every tanh behind it would look saturated). The moving statistics
are never updated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from ._keras_compat import evaluate_nodes, kept_graph, producer, symbolic_calls
from .findings import reported_keras_warnings_silenced
from .inspection import Functional
from .inspection.walk import is_custom, step_name
from .sample import with_text_as_tensors


def _has_initial_statistics(layer: keras.layers.BatchNormalization) -> bool:
    mean = keras.ops.convert_to_numpy(layer.moving_mean)
    variance = keras.ops.convert_to_numpy(layer.moving_variance)
    return bool(np.all(mean == 0) and np.all(variance == 1))


def _batch_statistics_norm(layer: keras.layers.BatchNormalization, inputs: Any) -> Any:
    """What `layer` computes in training mode, without touching its moving statistics."""
    axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    rank = len(inputs.shape)
    reduce_axes = [i for i in range(rank) if i != axis % rank]
    mean, variance = keras.ops.moments(inputs, axes=reduce_axes, keepdims=True)
    outputs = (inputs - mean) / keras.ops.sqrt(variance + layer.epsilon)
    shape = [1] * rank
    shape[axis % rank] = inputs.shape[axis]
    if layer.scale:
        outputs = outputs * keras.ops.reshape(layer.gamma, shape)
    if layer.center:
        outputs = outputs + keras.ops.reshape(layer.beta, shape)
    return outputs


@dataclass
class Probe:
    """A model sharing the original's layers whose outputs are ``[model output, *its own layers'
    taps]``, and what it needs to compute the taps inside custom layers and nested models.

    Attributes:
        model: the Keras model (its first output is the original's first output).
        taps: the taps the probe reaches, in the order asked.
        inner: the taps inside custom layers and nested models, by name: tensors of the steps
            read from the layers' calls on the probe's tensors (`nodes`), not outputs of `model`.
        nodes: the graph nodes of the probe and of those reads, in the order they ran.
        inputs: the probe's input tensors, flattened as its inputs are.
        aliases: the tensors a layer was read on, by id, and the probe tensors they copy.
    """

    model: keras.Model
    taps: list[str]
    inner: dict[str, Any] = field(default_factory=dict)
    nodes: list[Any] = field(default_factory=list)
    inputs: list[Any] = field(default_factory=list)
    aliases: dict[int, Any] = field(default_factory=dict)


def build_probe(model: keras.Model, taps: list[str], example: Any = None) -> Probe:
    """A `Probe` of `model` for the nodes `taps` names (names of the model view,
    `advisor.inspection.view`): the model's own layers, and the layers of nested models and the
    steps inside custom layers, which the probe reads from the layers' calls on its own tensors
    as the view does, and computes beside the model's own call of the layer. A tap it cannot reach
    (a layer whose call cannot be read on symbolic tensors) is left out of `Probe.taps`. With
    `example` inputs, the probe takes inputs of exactly their shapes (a layer read inside may
    compute positions from the sequence's length). The model's graph is left as it was.

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", name="h"),
        ...                           keras.layers.Dense(1)])
        >>> probe = build_probe(model, ["h"])
        >>> [tuple(t.shape) for t in probe.model.outputs], probe.model.layers[1] is model.layers[0], probe.taps
        ([(None, 1), (None, 4)], True, ['h'])
    """
    if isinstance(model, Functional):
        functional = model
    else:  # a Sequential model: the same layers as a Functional graph
        functional = keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs, model.outputs)
    tapped: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    aliases: dict[int, Any] = {}  # the id of a copy read inside a layer -> the tensor it copies
    calls: Counter[str] = Counter()
    inside: list[str | None] = [None]  # the prefix of the steps of the layer being read; None at the top

    def read_inside(operation: Any, prefix: str, args: Any, kwargs: Any) -> None:
        # Read on dense copies of its arguments (a tensor Keras marked sparse, as keras-hub's
        # scaled embeddings are, is not what the layer computes on); `aliases` feeds them.
        def copy(tensor: Any) -> Any:
            if not isinstance(tensor, keras.KerasTensor):
                return tensor
            fresh = keras.KerasTensor(tensor.shape, dtype=tensor.dtype)
            aliases[id(fresh)] = tensor
            return fresh

        args, kwargs = keras.tree.map_structure(copy, (tuple(args), dict(kwargs)))
        inside.append(prefix)
        try:
            operation.call(*args, **kwargs)
        except Exception:  # noqa: BLE001  (a layer the view could not read either: no taps inside)
            pass
        finally:
            inside.pop()

    def hook(operation: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
        prefix = inside[-1]
        nested = isinstance(operation, Functional)
        if prefix is None and not (nested or is_custom(operation)):
            return call(operation, *args, **kwargs)  # the model's own layers: tapped by `call` below
        name = operation.name if prefix is None else step_name(prefix, operation, calls)
        if nested:  # its layers keep their names in the view
            read_inside(operation, "", args, kwargs)
        elif is_custom(operation):
            read_inside(operation, f"{name}/", args, kwargs)
        outputs = call(operation, *args, **kwargs)
        if prefix is not None:
            inner.setdefault(name, outputs)
        return outputs

    def call(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
        if isinstance(layer, keras.layers.BatchNormalization) and _has_initial_statistics(layer):
            outputs = _batch_statistics_norm(layer, args[0])
        else:
            outputs = layer(*args, **kwargs)
        tapped[layer.name] = outputs
        return outputs

    nodes: list[Any] = []
    with kept_graph(functional), symbolic_calls(hook, created=nodes), reported_keras_warnings_silenced():
        shared = keras.models.clone_model(
            functional,
            input_tensors=_inputs_like(functional, example),
            clone_function=lambda layer: layer,
            call_function=call,
        )
        top = [name for name in taps if name in tapped]
        probe_model = keras.Model(shared.input, [shared.outputs[0], *(tapped[name] for name in top)])
    reached = [name for name in taps if name in tapped or name in inner]
    inside_taps = {name: inner[name] for name in reached if name not in tapped}
    return Probe(
        probe_model, reached, inside_taps, nodes if inside_taps else [], keras.tree.flatten(shared.input), aliases
    )


def _inputs_like(model: keras.Model, example: Any) -> Any:
    """Fresh inputs of `model` with the shapes of the arrays in `example` (None: its own)."""
    if example is None:
        return None
    try:
        return keras.tree.map_structure(
            lambda tensor, array: keras.Input(
                batch_shape=np.shape(array), dtype=tensor.dtype, name=producer(tensor).name
            ),
            model.input,
            example,
        )
    except (TypeError, ValueError):  # not the model's input structure: its own inputs then
        return None


def _norms(gradients: list[Any], groups: list[list[int]]) -> list[float]:
    squares = [float(np.sum(np.square(keras.ops.convert_to_numpy(g).astype("float64")))) for g in gradients]
    return [float(np.sqrt(sum(squares[i] for i in group))) for group in groups]


def run_probe(
    probe: Probe,
    x: Any,
    y: Any,
    loss: Callable[[Any, Any], Any] | None,
    kernels: list[list[keras.Variable]],
) -> tuple[list[np.ndarray], list[float] | None]:
    """Run `probe` on `x` once; with a loss, also the gradient norm of each group of `kernels`.

    The loss is averaged over the sample (a loss function's per-sample values too), as a
    compiled loss's default reduction does.

    Returns, as NumPy arrays, the model's first output and one array per `probe.taps` (None for
    a tap inside a layer that could not be computed), and per group the L2 norm of the loss
    gradient with respect to the group's variables (None without `y` or a loss).

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="h"), keras.layers.Dense(1)])
        >>> probe = build_probe(model, ["h"])
        >>> outputs, norms = run_probe(probe, np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"),
        ...                            keras.losses.MeanSquaredError(), [[model.layers[0].kernel]])
        >>> [o.shape for o in outputs], len(norms)
        ([(4, 1), (4, 2)], 1)
    """
    x = with_text_as_tensors(x)
    norms = None
    if y is None or loss is None:
        outputs = [keras.ops.convert_to_numpy(o) for o in _listed(probe.model(x, training=False))]
    else:
        y = np.asarray(y)
        output_rank = len(probe.model.outputs[0].shape)
        if y.ndim == output_rank - 1:  # as Keras' compiled losses do: (n,) labels for (n, 1) outputs
            y = y[..., None]
        flat = [variable for group in kernels for variable in group]
        groups, start = [], 0
        for group in kernels:
            groups.append(list(range(start, start + len(group))))
            start += len(group)
        computed, gradients = _GRADIENTS[keras.backend.backend()](probe.model, x, y, loss, flat)
        outputs, norms = [keras.ops.convert_to_numpy(o) for o in computed], _norms(gradients, groups)
    if not probe.inner:
        return outputs, norms
    feed = {id(tensor): value for tensor, value in zip(probe.inputs, keras.tree.flatten(x))}
    inside = dict(zip(probe.inner, evaluate_nodes(probe.nodes, feed, list(probe.inner.values()), probe.aliases)))
    own = iter(outputs[1:])
    return [outputs[0], *(inside[name] if name in inside else next(own) for name in probe.taps)], norms


def _listed(outputs: Any) -> list[Any]:
    """A probe's outputs as a list (Keras returns a model's only output bare: a probe with no taps)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _tensorflow_gradients(probe, x, y, loss, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = _listed(probe(x, training=False))
        value = keras.ops.mean(loss(y, outputs[0]))
    return outputs, tape.gradient(value, variables, unconnected_gradients="zero")


def _jax_gradients(probe, x, y, loss, variables):
    import jax

    trainable = probe.trainable_variables
    wanted = [next(i for i, v in enumerate(trainable) if v is variable) for variable in variables]
    non_trainable = [v.value for v in probe.non_trainable_variables]

    def loss_of(values):
        outputs, _ = probe.stateless_call(values, non_trainable, x, training=False)
        outputs = _listed(outputs)
        return keras.ops.mean(loss(y, outputs[0])), outputs

    (_, outputs), gradients = jax.value_and_grad(loss_of, has_aux=True)([v.value for v in trainable])
    return outputs, [gradients[i] for i in wanted]


def _torch_gradients(probe, x, y, loss, variables):
    import torch

    outputs = _listed(probe(x, training=False))
    value = keras.ops.mean(loss(keras.ops.convert_to_tensor(y), outputs[0]))
    # autograd.grad returns the gradients without accumulating into `.grad`: no training state changes.
    gradients = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    gradients = [torch.zeros_like(v.value) if g is None else g for g, v in zip(gradients, variables)]
    return [o.detach() for o in outputs], gradients


_GRADIENTS = {"tensorflow": _tensorflow_gradients, "jax": _jax_gradients, "torch": _torch_gradients}
