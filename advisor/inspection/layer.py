"""Reading one node of a model's graph: what it is (`Kind`) and the activation it applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from .._keras_compat import PREPROCESSING_MODULE, TRANSPARENT_MODULES
from .vocabulary import (
    ACTIVATION_LAYERS,
    ATTENTION_LAYERS,
    AVERAGE_POOLING_LAYERS,
    EMBEDDING_LAYERS,
    MAX_POOLING_LAYERS,
    MERGE_LAYERS,
    NORMALIZATION_LAYERS,
    OP_ACTIVATIONS,
    OP_ARITHMETIC,
    OP_ATTENTION,
    OP_TRANSPARENT,
    PRODUCTS,
    RECURRENT_LAYERS,
    TRANSPARENT_CLASS_NAMES,
    TRANSPARENT_LAYERS,
    WEIGHT_LAYERS,
    Kind,
    activation_id,
    initializer_name,
    relu_id,
    start_of,
)


@dataclass(frozen=True)
class LayerInfo:
    """One node of the model graph as the advisor sees it (a layer, or a `keras.ops` node).

    Attributes:
        name: the layer's (or op's) name.
        class_name: its class, e.g. ``"Dense"``, ``"Add"``.
        kind: a `Kind`: ``"weight"`` (Dense, Conv, ...), ``"recurrent"``, ``"attention"``,
            ``"activation"``, ``"normalization"``, ``"preprocessing"``, ``"embedding"``,
            ``"transparent"`` (Dropout, Flatten, padding, ...), ``"max_pooling"``,
            ``"average_pooling"``, ``"merge"``, ``"op"`` (`keras.ops` arithmetic and others),
            ``"other"`` (a Keras layer with no activation role) or ``"unknown"`` (a custom layer
            or a `Lambda`: the advisor cannot read what it computes).
        activation: the activation it applies (see `activation_id`), ``"linear"`` for a weight
            layer without one, None for layers that apply none.
        units: the size of its output's last axis, when known.
        kernel_initializer: Keras' name for its kernel initializer (``"glorot_uniform"``), if any.
        inbound: names of the nodes feeding it.
        tensor_inputs: how many tensors it takes (an op ``x + 3`` takes one, ``x + y`` two).
        top_level: whether it is one of the model's own layers (not inside a nested model or a
            custom layer, not an op).
        start: for a learnable keras_act activation, the fixed one it starts as (see
            `start_of`); None otherwise.
        trainable: False for a frozen layer (``trainable=False``, itself or a model around it).
        owner: for a node inside a custom layer (read from what its `call` computes, see
            `advisor.inspection.trace`), that layer's name; its own name is then
            ``"<owner>/<sublayer or op>"``. None for the model's own nodes.

    Examples:
        >>> import keras
        >>> info = inspect_layer(keras.layers.Dense(3, activation="relu"))
        >>> (info.kind, info.activation, info.kernel_initializer)
        ('weight', 'relu', 'glorot_uniform')
    """

    name: str
    class_name: str
    kind: str
    activation: str | None
    units: int | None
    kernel_initializer: str | None
    inbound: tuple[str, ...] = ()
    tensor_inputs: int = 1
    top_level: bool = True
    start: str | None = None
    trainable: bool = True
    owner: str | None = None

    @property
    def has_weights(self) -> bool:
        """Whether the layer holds a kernel that counts toward a network's depth."""
        return self.kind in (Kind.WEIGHT, Kind.RECURRENT, Kind.ATTENTION)


def unwrap(layer: Any) -> Any:
    """The layer a `TimeDistributed` wrapper applies (it computes what its inner layer does)."""
    return layer.layer if isinstance(layer, keras.layers.TimeDistributed) else layer


def kind_of(operation: Any) -> Kind:
    layer = unwrap(operation)
    if not isinstance(layer, keras.layers.Layer):
        name = type(layer).__name__
        if name in OP_ACTIVATIONS:
            return Kind.ACTIVATION
        if name in OP_TRANSPARENT:
            return Kind.TRANSPARENT
        if name in OP_ATTENTION:
            return Kind.ATTENTION
        return Kind.OP
    for kind, classes in (
        (Kind.ACTIVATION, ACTIVATION_LAYERS),
        (Kind.WEIGHT, WEIGHT_LAYERS),
        (Kind.RECURRENT, RECURRENT_LAYERS),
        (Kind.ATTENTION, ATTENTION_LAYERS),
        (Kind.NORMALIZATION, NORMALIZATION_LAYERS),
        (Kind.EMBEDDING, EMBEDDING_LAYERS),
        (Kind.TRANSPARENT, TRANSPARENT_LAYERS),
        (Kind.MAX_POOLING, MAX_POOLING_LAYERS),
        (Kind.AVERAGE_POOLING, AVERAGE_POOLING_LAYERS),
        (Kind.MERGE, MERGE_LAYERS),
    ):
        if isinstance(layer, classes):
            return kind
    module = type(layer).__module__
    if module.startswith(PREPROCESSING_MODULE):
        return Kind.PREPROCESSING
    if module.startswith(TRANSPARENT_MODULES) or type(layer).__name__ in TRANSPARENT_CLASS_NAMES:
        return Kind.TRANSPARENT
    if isinstance(layer, keras.layers.Lambda) or not module.startswith("keras."):
        return Kind.UNKNOWN
    return Kind.OTHER


def _units(layer: Any) -> int | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return getattr(layer, "units", None) or getattr(layer, "filters", None)
    return int(shape[-1]) if shape and shape[-1] is not None else None


def _cell(layer: Any) -> Any:
    """A recurrent layer's cell (a Bidirectional's forward cell)."""
    return getattr(getattr(layer, "forward_layer", layer), "cell", None)


def activation_of(operation: Any, kind: str) -> str | None:
    """The id of the activation a node of `kind` applies (``"linear"`` for a weight layer without
    one), or None.

    Examples:
        >>> import keras
        >>> activation_of(keras.layers.Dense(2, activation="gelu"), Kind.WEIGHT)
        'gelu'
    """
    layer = unwrap(operation)
    if kind == Kind.ACTIVATION:
        if not isinstance(layer, keras.layers.Layer):
            return relu_id(layer) if type(layer).__name__ == "ReLU" else OP_ACTIVATIONS[type(layer).__name__]
        return activation_id(layer)
    if kind == Kind.WEIGHT:
        return activation_id(getattr(layer, "activation", None)) or "linear"
    if kind == Kind.RECURRENT:
        return activation_id(getattr(_cell(layer), "activation", None))
    return None


def _start_of(operation: Any, kind: str) -> str | None:
    layer = unwrap(operation)
    return start_of(layer if kind == Kind.ACTIVATION else getattr(layer, "activation", None))


def _initializer_of(operation: Any, kind: str) -> str | None:
    layer = unwrap(operation)
    initializer = getattr(layer, "kernel_initializer", None) or getattr(layer, "depthwise_initializer", None)
    if initializer is None and kind == Kind.RECURRENT:
        initializer = getattr(_cell(layer), "kernel_initializer", None)
    return initializer_name(initializer)


def inspect_layer(
    layer: Any,
    inbound: tuple[str, ...] = (),
    tensor_inputs: int = 1,
    top_level: bool = True,
    *,
    name: str | None = None,
    kind: Kind | None = None,
    units: int | None = None,
    owner: str | None = None,
) -> LayerInfo:
    """Describe one layer (or `keras.ops` node).

    Examples:
        >>> import keras_act
        >>> inspect_layer(keras_act.Swish()).activation
        'swish'
    """
    kind = kind_of(layer) if kind is None else kind
    is_layer = isinstance(layer, keras.layers.Layer)
    if units is None and is_layer and owner is None:
        units = _units(layer)
    return LayerInfo(
        name=name or layer.name,
        class_name=type(layer).__name__,
        kind=kind,
        activation=activation_of(layer, kind),
        units=units,
        kernel_initializer=_initializer_of(layer, kind) if is_layer else None,
        inbound=inbound,
        tensor_inputs=tensor_inputs,
        top_level=top_level and is_layer,
        start=_start_of(layer, kind) if is_layer else None,
        trainable=bool(layer.trainable) if is_layer else True,
        owner=owner,
    )


def is_residual_add(info: LayerInfo) -> bool:
    return info.class_name == "Add" and info.kind in (Kind.MERGE, Kind.OP) and info.tensor_inputs >= 2


def is_product(info: LayerInfo) -> bool:
    return info.class_name in PRODUCTS and info.tensor_inputs >= 2 and info.kind in (Kind.MERGE, Kind.OP)


def is_rescaling_op(info: LayerInfo) -> bool:
    return info.kind == Kind.OP and info.class_name in OP_ARITHMETIC and info.tensor_inputs <= 1
