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

from typing import Any, Callable

import keras
import numpy as np

from .inspection import Functional
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


def build_probe(model: keras.Model, taps: list[str]) -> keras.Model:
    """A model sharing `model`'s layers whose outputs are ``[model output, *tapped layers' outputs]``.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", name="h"),
        ...                           keras.layers.Dense(1)])
        >>> probe = build_probe(model, ["h"])
        >>> [tuple(t.shape) for t in probe.outputs], probe.layers[1] is model.layers[0]
        ([(None, 1), (None, 4)], True)
    """
    if isinstance(model, Functional):
        functional = model
    else:  # a Sequential model: the same layers as a Functional graph
        functional = keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs, model.outputs)
    tapped: dict[str, Any] = {}

    def call(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
        if isinstance(layer, keras.layers.BatchNormalization) and _has_initial_statistics(layer):
            outputs = _batch_statistics_norm(layer, args[0])
        else:
            outputs = layer(*args, **kwargs)
        tapped[layer.name] = outputs
        return outputs

    shared = keras.models.clone_model(functional, clone_function=lambda layer: layer, call_function=call)
    return keras.Model(shared.input, [shared.outputs[0], *(tapped[name] for name in taps)])


def _norms(gradients: list[Any], groups: list[list[int]]) -> list[float]:
    squares = [float(np.sum(np.square(keras.ops.convert_to_numpy(g).astype("float64")))) for g in gradients]
    return [float(np.sqrt(sum(squares[i] for i in group))) for group in groups]


def run_probe(
    probe: keras.Model,
    x: Any,
    y: Any,
    loss: Callable[[Any, Any], Any] | None,
    kernels: list[list[keras.Variable]],
) -> tuple[list[np.ndarray], list[float] | None]:
    """Run `probe` on `x` once; with a loss, also the gradient norm of each group of `kernels`.

    The loss is averaged over the sample (a loss function's per-sample values too), as a
    compiled loss's default reduction does.

    Returns the probe's outputs as NumPy arrays and, per group, the L2 norm of the loss
    gradient with respect to the group's variables (None without `y` or a loss).

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="h"), keras.layers.Dense(1)])
        >>> probe = build_probe(model, ["h"])
        >>> outputs, norms = run_probe(probe, np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"),
        ...                            keras.losses.MeanSquaredError(), [[model.layers[0].kernel]])
        >>> [o.shape for o in outputs], len(norms)
        ([(4, 1), (4, 2)], 1)
    """
    x = with_text_as_tensors(x)
    if y is None or loss is None:
        return [keras.ops.convert_to_numpy(o) for o in probe(x, training=False)], None
    y = np.asarray(y)
    output_rank = len(probe.outputs[0].shape)
    if y.ndim == output_rank - 1:  # as Keras' compiled losses do: (n,) labels for (n, 1) outputs
        y = y[..., None]
    flat = [variable for group in kernels for variable in group]
    groups, start = [], 0
    for group in kernels:
        groups.append(list(range(start, start + len(group))))
        start += len(group)
    outputs, gradients = _GRADIENTS[keras.backend.backend()](probe, x, y, loss, flat)
    return [keras.ops.convert_to_numpy(o) for o in outputs], _norms(gradients, groups)


def _tensorflow_gradients(probe, x, y, loss, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = probe(x, training=False)
        value = keras.ops.mean(loss(y, outputs[0]))
    return outputs, tape.gradient(value, variables, unconnected_gradients="zero")


def _jax_gradients(probe, x, y, loss, variables):
    import jax

    trainable = probe.trainable_variables
    wanted = [next(i for i, v in enumerate(trainable) if v is variable) for variable in variables]
    non_trainable = [v.value for v in probe.non_trainable_variables]

    def loss_of(values):
        outputs, _ = probe.stateless_call(values, non_trainable, x, training=False)
        return keras.ops.mean(loss(y, outputs[0])), outputs

    (_, outputs), gradients = jax.value_and_grad(loss_of, has_aux=True)([v.value for v in trainable])
    return outputs, [gradients[i] for i in wanted]


def _torch_gradients(probe, x, y, loss, variables):
    import torch

    outputs = probe(x, training=False)
    value = keras.ops.mean(loss(keras.ops.convert_to_tensor(y), outputs[0]))
    # autograd.grad returns the gradients without accumulating into `.grad`: no training state changes.
    gradients = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    gradients = [torch.zeros_like(v.value) if g is None else g for g, v in zip(gradients, variables)]
    return [o.detach() for o in outputs], gradients


_GRADIENTS = {"tensorflow": _tensorflow_gradients, "jax": _jax_gradients, "torch": _torch_gradients}
