"""The Keras internals the advisor reads, in one place (checked against Keras 3.3-3.15).

Keras 3 exports no API to walk a Functional model's graph or to tell its layer families apart
by module; the advisor needs both to read real architectures. If a Keras release moves one of
these, this module is the one to change.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import keras
from keras.src.layers import layer as _layer_module

# The class of models built with keras.Model(inputs, outputs): not exported by `keras`.
from keras.src.models.functional import Functional
from keras.src.ops.node import Node
from keras.src.ops.operation import Operation

# Whole Keras modules whose layers are transparent (reshaping, padding, cropping, dropout, ...)
# or preprocessing (Rescaling, Normalization, resizing, augmentation).
TRANSPARENT_MODULES = ("keras.src.layers.reshaping", "keras.src.layers.regularization")
PREPROCESSING_MODULE = "keras.src.layers.preprocessing"

__all__ = ["Functional", "PREPROCESSING_MODULE", "TRANSPARENT_MODULES", "TracedCall", "TracedStep",
           "as_input_structure", "inbound_nodes", "input_keys", "layer_tree", "model_nodes", "producer", "single_op",
           "trace_call"]
# A None dimension (the batch, a variable sequence length) is traced at this size: layers that
# compute positions (`ops.arange(ops.shape(x)[1])`) need a number.
TRACE_DIMENSION = 8


def producer(tensor: Any) -> Any:
    """The layer (operation) that computed a symbolic tensor.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,), name="features")
        >>> producer(keras.layers.Dense(2, name="d")(inputs)).name
        'd'
    """
    return tensor._keras_history.operation


def inbound_nodes(operation: Any) -> list[Any]:
    """Every call of a layer in any model graph (a shared layer has one node per call)."""
    return operation._inbound_nodes


def model_nodes(model: Any) -> set[int]:
    """The ids of the nodes that belong to this Functional model's own graph."""
    return {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}


def layer_tree(layer: Any) -> list[Any]:
    """The layer and every layer it tracks, depth first (what the `.keras` format saves one by one).

    Example:
        >>> import keras
        >>> [type(l).__name__ for l in layer_tree(keras.layers.TextVectorization())]
        ['TextVectorization', 'StringLookup']
    """
    return list(layer._flatten_layers(include_self=True, recursive=True))


def input_keys(model: Any) -> list[str]:
    """Each input's key, in `model.inputs` order, as Keras matches a dict of inputs: its key when
    the model was built on a dict of inputs, else its `keras.Input`'s name.

    Example:
        >>> import keras
        >>> inputs = {"age": keras.Input((1,), name="age_in"), "income": keras.Input((1,), name="income")}
        >>> model = keras.Model(inputs, keras.layers.Concatenate()([inputs["age"], inputs["income"]]))
        >>> input_keys(model)
        ['age', 'income']
    """
    inputs = list(getattr(model, "inputs", None) or [])
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        key_of = {id(tensor): key for key, tensor in structure.items()}
        if all(id(tensor) in key_of for tensor in inputs):
            return [key_of[id(tensor)] for tensor in inputs]
    return [producer(tensor).name for tensor in inputs]


def as_input_structure(model: Any, arrays: list[Any]) -> Any:
    """`arrays` (one per input, in `model.inputs` order) in the structure the model was built on:
    a dict for a model built on a dict of inputs (Keras warns on any other), else a list, or the
    one array.

    Example:
        >>> import keras, numpy as np
        >>> inputs = {"b": keras.Input((1,), name="b"), "a": keras.Input((1,), name="a")}
        >>> model = keras.Model(inputs, keras.layers.Concatenate()([inputs["a"], inputs["b"]]))
        >>> sorted(as_input_structure(model, [np.zeros(1), np.ones(1)]))
        ['a', 'b']
    """
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        return dict(zip(input_keys(model), arrays))
    return arrays[0] if len(arrays) == 1 else list(arrays)


@dataclass(frozen=True)
class TracedStep:
    """One call recorded while tracing a layer's `call`: a sublayer or a `keras.ops` op.

    `parents` holds, per tensor it takes, the index of the step that made it, or the tensor
    given to the traced call (the caller's own tensor) it came from.
    """

    operation: Any
    parents: tuple[Any, ...]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    units: int | None


@dataclass(frozen=True)
class TracedCall:
    """What a layer's `call` computes, as steps in the order they ran, and its outputs (step
    indices, or the caller's tensors passed through)."""

    steps: list[TracedStep]
    outputs: tuple[Any, ...]


_TRACE_LOCK = threading.Lock()


@contextlib.contextmanager
def _lenient_symbolic_calls() -> Iterator[None]:
    """While tracing, a sublayer whose own `compute_output_spec` does not take the arguments its
    `call` does (keras-hub's `CachedMultiHeadAttention` and its cache) is traced through its
    `call` by the backend, and a call that returns None beside its tensors (an attention layer's
    empty cache) records its tensors. Keras does the same when it builds a Functional model; it
    only refuses both on the symbolic calls a trace makes."""
    original_symbolic_call, original_node = _layer_module.Layer.symbolic_call, _layer_module.Node

    def symbolic_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_symbolic_call(self, *args, **kwargs)
        except Exception:  # noqa: BLE001  (the layer's own spec failed: trace its call instead)
            return Operation.compute_output_spec(self, *args, **kwargs)

    class TensorsOnlyNode(Node):
        def __init__(self, operation: Any, call_args: Any = None, call_kwargs: Any = None,
                     outputs: Any = None) -> None:
            tensors = [t for t in keras.tree.flatten(outputs) if isinstance(t, keras.KerasTensor)]
            super().__init__(operation, call_args, call_kwargs, tensors if outputs is not None else None)

    _layer_module.Layer.symbolic_call, _layer_module.Node = symbolic_call, TensorsOnlyNode
    try:
        yield
    finally:
        _layer_module.Layer.symbolic_call, _layer_module.Node = original_symbolic_call, original_node


def _read_trace(outputs: Any, origin: dict[int, Any]) -> TracedCall:
    steps: list[TracedStep] = []
    index: dict[tuple[int, int], int] = {}

    def visit(tensor: Any) -> Any:
        if id(tensor) in origin:
            return origin[id(tensor)]
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            return None
        key = (id(history.operation), history.node_index)
        if key not in index:
            node = history.operation._inbound_nodes[history.node_index]
            parents = tuple(ref for ref in (visit(t) for t in node.arguments.keras_tensors) if ref is not None)
            shape = node.outputs[0].shape if node.outputs else None
            units = int(shape[-1]) if shape and shape[-1] is not None else None
            steps.append(TracedStep(history.operation, parents, tuple(node.arguments.args),
                                    dict(node.arguments.kwargs), units))
            index[key] = len(steps) - 1
        return index[key]

    refs = tuple(ref for ref in (visit(t) for t in keras.tree.flatten(outputs) if isinstance(t, keras.KerasTensor))
                 if ref is not None)
    return TracedCall(steps, refs)


def single_op(function: Any) -> str | None:
    """The class name of the one `keras.ops` op `function` applies to its input (``"Gelu"`` for
    keras-hub's `gelu_approximate`), or None when it computes anything else or cannot be traced.

    Example:
        >>> import keras
        >>> single_op(lambda x: keras.activations.gelu(x, approximate=True)), single_op(lambda x: x * x + 1)
        ('Gelu', None)
    """
    if not callable(function) or isinstance(function, keras.layers.Layer):
        return None
    placeholder = keras.KerasTensor((TRACE_DIMENSION, TRACE_DIMENSION))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = function(placeholder)
    except Exception:  # noqa: BLE001  (what cannot be traced is not read)
        return None
    history = getattr(output, "_keras_history", None)
    if history is None or history.operation is None or isinstance(history.operation, keras.layers.Layer):
        return None
    node = history.operation._inbound_nodes[history.node_index]
    if [id(t) for t in node.arguments.keras_tensors] != [id(placeholder)]:
        return None
    return type(history.operation).__name__


def trace_call(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TracedCall:
    """What `layer.call` computes on symbolic tensors shaped like `args`/`kwargs` (the arguments
    of one of its calls in a model graph): every sublayer and `keras.ops` op it calls, wired.

    The layer is left as it was: the graph nodes the trace adds to its sublayers are removed.
    Raises whatever the layer's `call` raises on symbolic tensors.

    Example:
        >>> import keras
        >>> class Block(keras.layers.Layer):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.dense = keras.layers.Dense(4, name="dense")
        ...     def call(self, x):
        ...         return keras.ops.gelu(self.dense(x)) + x
        >>> block = Block()
        >>> _ = block(keras.Input((4,)))
        >>> traced = trace_call(block, (keras.Input((4,)),), {})
        >>> [type(step.operation).__name__ for step in traced.steps]
        ['Dense', 'Gelu', 'Add']
    """
    origin: dict[int, Any] = {}

    def placeholder(tensor: Any) -> Any:
        if not isinstance(tensor, keras.KerasTensor):
            return tensor
        shape = tuple(TRACE_DIMENSION if d is None else d for d in tensor.shape)
        fresh = keras.KerasTensor(shape, dtype=tensor.dtype)
        origin[id(fresh)] = tensor
        return fresh

    args, kwargs = keras.tree.map_structure(placeholder, (tuple(args), dict(kwargs)))
    layers = layer_tree(layer)
    with _TRACE_LOCK:
        before = [(sub, len(sub._inbound_nodes), len(sub._outbound_nodes)) for sub in layers]
        try:
            with _lenient_symbolic_calls(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # what Keras warns about the layer, it warned about when it was built
                outputs = layer.call(*args, **kwargs)
            return _read_trace(outputs, origin)
        finally:
            for sub, inbound, outbound in before:
                del sub._inbound_nodes[inbound:]
                del sub._outbound_nodes[outbound:]
