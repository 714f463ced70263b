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
from keras.src.ops import operation as _operation_module
from keras.src.ops.node import Node
from keras.src.ops.operation import Operation

# Whole Keras modules whose layers are transparent (reshaping, padding, cropping, dropout, ...)
# or preprocessing (Rescaling, Normalization, resizing, augmentation).
TRANSPARENT_MODULES = ("keras.src.layers.reshaping", "keras.src.layers.regularization")
PREPROCESSING_MODULE = "keras.src.layers.preprocessing"

__all__ = [
    "Functional",
    "PREPROCESSING_MODULE",
    "TRACE_DIMENSION",
    "TRANSPARENT_MODULES",
    "TracedCall",
    "TracedStep",
    "as_input_structure",
    "build_metrics_first",
    "output_structure",
    "inbound_nodes",
    "input_keys",
    "layer_tree",
    "model_nodes",
    "producer",
    "single_op",
    "symbolic_calls",
    "kept_graph",
    "trace_call",
    "evaluate_nodes",
]
# A None dimension (the batch, a variable sequence length) is traced at this size: layers that
# compute positions (`ops.arange(ops.shape(x)[1])`) need a number.
TRACE_DIMENSION = 8


def producer(tensor: Any) -> Any:
    """The layer (operation) that computed a symbolic tensor.

    Examples:
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


def output_structure(model: Any) -> Any:
    """The structure the model's outputs were given in (a dict keeps its keys), or None."""
    return getattr(model, "_outputs_struct", None)


def build_metrics_first(model: Any, data_batch: tuple[Any, Any, Any]) -> None:
    """Build a compiled model's metrics on one batch before `fit`, where Keras allows it.

    Keras' TensorFlow trainer builds the metrics inside the first traced step, and tf.function
    then traces that step twice (1.5 s of a 10-execution MLP's 12 s). Without the hook (other
    backends, other releases) the fit is only slower.
    """
    symbolic_build = getattr(model, "_symbolic_build", None)
    if symbolic_build is not None:
        symbolic_build(data_batch=data_batch)


def layer_tree(layer: Any) -> list[Any]:
    """The layer and every layer it tracks, depth first (what the `.keras` format saves one by one).

    Examples:
        >>> import keras
        >>> [type(l).__name__ for l in layer_tree(keras.layers.TextVectorization())]
        ['TextVectorization', 'StringLookup']
    """
    return list(layer._flatten_layers(include_self=True, recursive=True))


def input_keys(model: Any) -> list[str]:
    """Each input's key, in `model.inputs` order, as Keras matches a dict of inputs: its key when
    the model was built on a dict of inputs, else its `keras.Input`'s name.

    Examples:
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

    Examples:
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


_TRACE_LOCK = threading.RLock()


@contextlib.contextmanager
def symbolic_calls(hook: Any = None, created: list[Any] | None = None) -> Iterator[None]:
    """While active, the symbolic calls layers and ops make are lenient, observed and ordered:

    - a sublayer whose own `compute_output_spec` does not take the arguments its `call` does
      (keras-hub's `CachedMultiHeadAttention` and its cache) is traced through its `call` by the
      backend, and a call that returns None beside its tensors (an attention layer's empty
      cache) records its tensors. Keras does the same when it builds a Functional model; it only
      refuses both on the symbolic calls a trace makes;
    - `hook(operation, call, *args, **kwargs)`, when given, makes each call instead (`call` is
      the lenient call it replaces);
    - `created`, when given, receives each graph node as it is made: the order the calls ran.

    Calls are serialized (the patched methods are Keras' own, process-wide).
    """
    original_layer_call, original_op_call = _layer_module.Layer.symbolic_call, Operation.symbolic_call
    original_layer_node, original_op_node = _layer_module.Node, _operation_module.Node

    def lenient_layer_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_layer_call(self, *args, **kwargs)
        except Exception:  # noqa: BLE001  (the layer's own spec failed: trace its call instead)
            return Operation.compute_output_spec(self, *args, **kwargs)

    def layer_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return hook(self, lenient_layer_call, *args, **kwargs) if hook else lenient_layer_call(self, *args, **kwargs)

    def op_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return hook(self, original_op_call, *args, **kwargs) if hook else original_op_call(self, *args, **kwargs)

    class RecordedNode(Node):
        def __init__(self, operation: Any, call_args: Any = None, call_kwargs: Any = None, outputs: Any = None) -> None:
            tensors = [t for t in keras.tree.flatten(outputs) if isinstance(t, keras.KerasTensor)]
            super().__init__(operation, call_args, call_kwargs, tensors if outputs is not None else None)
            if created is not None:
                created.append(self)

    with _TRACE_LOCK:
        _layer_module.Layer.symbolic_call, Operation.symbolic_call = layer_call, op_call
        _layer_module.Node = _operation_module.Node = RecordedNode
        try:
            yield
        finally:
            _layer_module.Layer.symbolic_call, Operation.symbolic_call = original_layer_call, original_op_call
            _layer_module.Node, _operation_module.Node = original_layer_node, original_op_node


def _read_trace(outputs: Any, origin: dict[int, Any], created: list[Any]) -> TracedCall:
    """The steps that lead to `outputs`, in the order they ran (`created`: the nodes as made)."""
    visited: list[tuple[Any, tuple[Any, ...], int | None]] = []  # (node, parent keys, units)
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
            visited.append((node, parents, units))
            index[key] = len(visited) - 1
        return index[key]

    refs = tuple(
        ref
        for ref in (visit(t) for t in keras.tree.flatten(outputs) if isinstance(t, keras.KerasTensor))
        if ref is not None
    )
    # Renumber the steps in the order they ran (a depth-first walk from the outputs meets them
    # in another): names given in that order are the same on every trace of the same call.
    ran = {id(node): position for position, node in enumerate(created)}
    order = sorted(range(len(visited)), key=lambda i: ran.get(id(visited[i][0]), len(created) + i))
    renumber = {old: new for new, old in enumerate(order)}

    def moved(ref: Any) -> Any:
        return renumber[ref] if isinstance(ref, int) else ref

    steps = [
        TracedStep(
            node.operation,
            tuple(moved(p) for p in parents),
            tuple(node.arguments.args),
            dict(node.arguments.kwargs),
            units,
        )
        for node, parents, units in (visited[i] for i in order)
    ]
    return TracedCall(steps, tuple(moved(ref) for ref in refs))


def single_op(function: Any) -> str | None:
    """The class name of the one `keras.ops` op `function` applies to its input (``"Gelu"`` for
    keras-hub's `gelu_approximate`), or None when it computes anything else or cannot be traced.

    Examples:
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

    Examples:
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
    created: list[Any] = []
    with _TRACE_LOCK, kept_graph(layer):
        with symbolic_calls(created=created), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what Keras warns about the layer, it warned about when it was built
            outputs = layer.call(*args, **kwargs)
        return _read_trace(outputs, origin, created)


@contextlib.contextmanager
def kept_graph(*layers: Any) -> Iterator[None]:
    """Whatever graph nodes symbolic calls add to these layers (and the layers they track) while
    active are removed at the end: the layers are left as they were."""
    tracked = [sub for layer in layers for sub in layer_tree(layer)]
    before = [(sub, len(sub._inbound_nodes), len(sub._outbound_nodes)) for sub in tracked]
    try:
        yield
    finally:
        for sub, inbound, outbound in before:
            del sub._inbound_nodes[inbound:]
            del sub._outbound_nodes[outbound:]


def evaluate_nodes(
    nodes: list[Any], feed: dict[int, Any], wanted: list[Any], aliases: dict[int, Any] | None = None
) -> list[Any]:
    """Run graph `nodes` (as `symbolic_calls` recorded them, in the order they ran) on values:
    `feed` maps the ids of the input tensors to their values; `aliases` maps the id of a tensor to
    the tensor whose value it takes. Returns the values of the `wanted` tensors (None for one no
    node computed). A Keras graph object would refuse these nodes: the steps of several calls of
    one custom layer share names.

    Examples:
        >>> import keras, numpy as np
        >>> created = []
        >>> inputs = keras.Input((2,))
        >>> with symbolic_calls(created=created):
        ...     outputs = keras.ops.relu(inputs - 1.0)
        >>> evaluate_nodes(created, {id(inputs): np.array([[0.5, 3.0]])}, [outputs])[0].tolist()
        [[0.0, 2.0]]
    """
    values = dict(feed)
    pending = dict(aliases or {})
    for node in nodes:
        for copy_id, source in list(pending.items()):
            if id(source) in values:
                values[copy_id] = values[id(source)]
                del pending[copy_id]
        if not node.arguments.keras_tensors or not all(id(t) in values for t in node.arguments.keras_tensors):
            continue
        args, kwargs = node.arguments.fill_in(values)
        try:
            computed = [value for value in keras.tree.flatten(node.operation(*args, **kwargs)) if value is not None]
        except Exception:  # noqa: BLE001  (a step read on symbolic tensors that does not run: its taps stay None)
            continue
        for tensor, value in zip(node.outputs, computed):
            values[id(tensor)] = value
    return [None if id(tensor) not in values else keras.ops.convert_to_numpy(values[id(tensor)]) for tensor in wanted]
