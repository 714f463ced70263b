"""Walking a model's graph into a flat list of `LayerInfo` nodes: nested models are flattened, and
custom layers are read through what their `call` computes (`advisor._keras_compat.trace_call`).

A custom layer (one outside Keras and keras_act: a keras-hub `TransformerEncoder`, a user's
block) is traced on symbolic tensors shaped like its inputs, and then read by what it computes:

- an attention layer (its call multiplies two tensors, takes a softmax and multiplies again, or
  calls Keras' fused `dot_product_attention`) is one node of kind ``"attention"``, as Keras'
  `MultiHeadAttention` is;
- a normalization (no weights or activations of its own, and a square root or variance among
  its ops: an RMSNorm written with `keras.ops`) is one node of kind ``"normalization"``;
- anything else is replaced by the sublayers and ops it calls, read like the model's own nodes
  (recursively), named ``"<layer>/<sublayer>"`` and owned by it (`LayerInfo.owner`).

A layer whose call cannot be traced stays one node of kind ``"unknown"``: the advisor does not
guess what it computes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import keras

from .._keras_compat import Functional, TracedCall, inbound_nodes, model_nodes, producer, trace_call
from .layer import LayerInfo, activation_of, inspect_layer, kind_of
from .vocabulary import NORMALIZATION_LAYERS, OP_ATTENTION, OP_NORMALIZING, Kind, snake_case

# How many steps apart the products around an attention softmax may be (scale, mask, reshapes
# around a windowed mask as in Swin, cast, dropout).
_ATTENTION_REACH = 6
# The ops that multiply matrices: the query-key scores and the weighted sum of values.
_MATRIX_PRODUCTS = ("Einsum", "Matmul", "Dot")


def _is_model(layer: Any) -> bool:
    return isinstance(layer, (keras.Sequential, Functional))


def is_custom(operation: Any) -> bool:
    """Whether the view reads `operation` through what its `call` computes: a layer outside Keras
    (a `Lambda` excepted: its function is the user's).

    Examples:
        >>> import keras
        >>> is_custom(keras.layers.Dense(2)), is_custom(keras.layers.Lambda(lambda x: x))
        (False, False)
    """
    return (
        isinstance(operation, keras.layers.Layer)
        and kind_of(operation) == Kind.UNKNOWN
        and not isinstance(operation, (keras.layers.Lambda, keras.Sequential, Functional))
    )


def step_name(prefix: str, operation: Any, calls: Counter[str]) -> str:
    """The name of one step of a custom layer's call (`prefix`: the layer's name and a slash): a
    sublayer's own name (``:2``, ``:3`` for its later calls in the same layer: DINOv2 calls its
    drop_path after attention and after the MLP), an op's class in snake case (``_1``, ``_2`` for
    later ones). Counted in the order the calls ran, so the same on every trace of the layer.

    Examples:
        >>> import keras
        >>> from collections import Counter
        >>> calls = Counter()
        >>> dense = keras.layers.Dense(2, name="proj")
        >>> [step_name("block/", dense, calls) for _ in range(2)]
        ['block/proj', 'block/proj:2']
    """
    is_layer = isinstance(operation, keras.layers.Layer)
    base = prefix + (operation.name if is_layer else snake_case(type(operation).__name__))
    count = calls[base]
    calls[base] += 1
    if count == 0:
        return base
    return f"{base}:{count + 1}" if is_layer else f"{base}_{count}"


class Graph:
    """The nodes read so far, by name, the Keras objects behind them, and the custom layers
    replaced by what they compute."""

    def __init__(self) -> None:
        self.out: list[LayerInfo] = []
        self.keras_layers: dict[str, Any] = {}
        self.custom_layers: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()

    def add(
        self,
        operation: Any,
        inbound: tuple[str, ...],
        tensor_inputs: int,
        top_level: bool,
        call: tuple[tuple[Any, ...], dict[str, Any]] | None,
        prefix: str = "",
        units: int | None = None,
        owner: str | None = None,
        per_tensor: list[tuple[str, ...]] | None = None,
    ) -> tuple[str, ...]:
        """Add one call of `operation` (its arguments: `call`; the nodes feeding each of its
        tensors: `per_tensor`); return the names of the nodes that produce its output."""
        if _is_model(operation):
            return self.walk(operation, inbound, False, per_tensor)
        name = step_name(prefix, operation, self.calls) if prefix else operation.name
        if not prefix and name in self.keras_layers:  # a shared layer applied again: one node, more edges
            index = next(i for i, info in enumerate(self.out) if info.name == name)
            old = self.out[index]
            self.out[index] = LayerInfo(**{**old.__dict__, "inbound": tuple(dict.fromkeys(old.inbound + inbound))})
            return (name,)
        kind = None
        if call is not None and is_custom(operation):
            try:
                traced = trace_call(operation, *call)
            except Exception:  # noqa: BLE001  (whatever it raises, the layer stays unread)
                traced = None
            if traced is not None:
                kind = _computes(traced)
                if kind is None:
                    self.custom_layers[name] = operation
                    return self.splice(operation, traced, inbound, name)
        self.keras_layers[name] = operation
        self.out.append(
            inspect_layer(
                operation,
                inbound,
                tensor_inputs,
                top_level and not prefix,
                name=name,
                kind=kind,
                units=units,
                owner=owner,
            )
        )
        return (name,)

    def splice(self, layer: Any, traced: TracedCall, inbound: tuple[str, ...], name: str) -> tuple[str, ...]:
        """Add the steps of a traced custom layer in its place; return its output nodes."""
        produced: list[tuple[str, ...]] = []

        def names_of(ref: Any) -> tuple[str, ...]:
            return produced[ref] if isinstance(ref, int) else inbound

        for step in traced.steps:
            parents = tuple(dict.fromkeys(n for ref in step.parents for n in names_of(ref)))
            produced.append(
                self.add(
                    step.operation,
                    parents,
                    len(step.parents),
                    False,
                    (step.args, step.kwargs),
                    prefix=f"{name}/",
                    units=step.units,
                    owner=name,
                )
            )
        exits = tuple(dict.fromkeys(n for ref in traced.outputs for n in names_of(ref)))
        return exits or inbound

    def walk(
        self,
        model: keras.Model,
        entry: tuple[str, ...],
        top_level: bool,
        per_input: list[tuple[str, ...]] | None = None,
    ) -> tuple[str, ...]:
        """Add `model`'s nodes (nested models flattened); return the names of the nodes that
        produce its outputs. `entry`: the nodes feeding its inputs (empty at the top);
        `per_input`: the nodes feeding each of them, in `model.inputs` order, where known."""
        if isinstance(model, keras.Sequential):
            previous = entry
            for layer in model.layers:
                previous = self.add(layer, previous, 1, top_level, None)
            return previous
        own_nodes = model_nodes(model)
        alias: dict[str, tuple[str, ...]] = {}
        input_index = {producer(tensor).name: i for i, tensor in enumerate(model.inputs)}
        if per_input is not None and len(per_input) != len(model.inputs):
            per_input = None
        for operation in model.operations:
            if isinstance(operation, keras.layers.InputLayer):
                index = input_index.get(operation.name)
                alias[operation.name] = (
                    per_input[index]
                    if per_input is not None and index is not None
                    else entry or self.add(operation, (), 0, top_level, None)
                )
                continue
            for node in inbound_nodes(operation):
                if id(node) not in own_nodes:
                    continue
                parents = tuple(
                    dict.fromkeys(
                        name
                        for parent in node.parent_nodes
                        for name in alias.get(parent.operation.name, (parent.operation.name,))
                    )
                )
                per_tensor = [alias.get(producer(t).name, (producer(t).name,)) for t in node.arguments.keras_tensors]
                alias[operation.name] = self.add(
                    operation,
                    parents,
                    len(node.arguments.keras_tensors),
                    top_level,
                    (tuple(node.arguments.args), dict(node.arguments.kwargs)),
                    per_tensor=per_tensor,
                )
        outputs = [producer(tensor).name for tensor in model.outputs]
        return tuple(dict.fromkeys(name for output in outputs for name in alias.get(output, (output,))))


def _computes(traced: TracedCall) -> Kind | None:
    """What a traced custom layer computes as a whole: attention, a normalization, or None (read
    its steps one by one)."""
    operations = [step.operation for step in traced.steps]
    if any(type(op).__name__ in OP_ATTENTION for op in operations) or _has_attention_core(traced):
        return Kind.ATTENTION
    weightless = all(
        kind_of(op) in (Kind.OP, Kind.TRANSPARENT) or isinstance(op, NORMALIZATION_LAYERS) for op in operations
    )
    if weightless and any(
        type(op).__name__ in OP_NORMALIZING or isinstance(op, NORMALIZATION_LAYERS) for op in operations
    ):
        return Kind.NORMALIZATION
    return None


def _has_attention_core(traced: TracedCall) -> bool:
    """Whether the traced call takes a softmax of a product of two tensors and multiplies it with
    another tensor: scaled dot-product attention, however it is written."""
    steps = traced.steps
    consumers: dict[int, list[int]] = {}
    for index, step in enumerate(steps):
        for ref in step.parents:
            if isinstance(ref, int):
                consumers.setdefault(ref, []).append(index)

    def reaches_product(start: int, forward: bool) -> bool:
        frontier = [start]
        for _ in range(_ATTENTION_REACH):
            frontier = [
                n
                for i in frontier
                for n in (consumers.get(i, []) if forward else [r for r in steps[i].parents if isinstance(r, int)])
            ]
            if any(
                type(steps[i].operation).__name__ in _MATRIX_PRODUCTS and len(steps[i].parents) >= 2 for i in frontier
            ):
                return True
            frontier = [i for i in frontier if kind_of(steps[i].operation) in (Kind.OP, Kind.TRANSPARENT, Kind.UNKNOWN)]
        return False

    return any(
        kind_of(step.operation) == Kind.ACTIVATION
        and activation_of(step.operation, Kind.ACTIVATION) == "softmax"
        and reaches_product(index, forward=False)
        and reaches_product(index, forward=True)
        for index, step in enumerate(steps)
    )


def inspect_model(model: keras.Model) -> list[LayerInfo]:
    """Describe every node of a built Sequential or Functional model, inputs first (nested
    models flattened, custom layers read through what they compute, `keras.ops` nodes included).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        >>> [(i.class_name, i.activation) for i in inspect_model(model)]
        [('Dense', 'softmax')]
    """
    graph = Graph()
    graph.walk(model, (), True)
    return graph.out
