"""What each layer of a Keras model computes: its kind, activation, width and initializer.

Activations are read from what a layer computes (its `activation` attribute, or the activation
layer itself), never from the layer class alone, so `Dense(activation="softmax")`,
`Dense() + Activation("softmax")`, `keras.layers.Softmax()` and `keras_act.Softmax()` all read
as ``"softmax"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import keras
# The class `keras.models.clone_model` itself tests for; Keras exports no public name for it.
from keras.src.models.functional import Functional

import keras_act

# Keras activation names that keras_act knows under another id.
_KERAS_ALIASES = {"silu": "swish", "swish": "swish"}

WEIGHT_LAYERS = (
    keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Conv1D, keras.layers.Conv2D,
    keras.layers.Conv3D, keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose, keras.layers.SeparableConv1D, keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
)
RECURRENT_LAYERS = (keras.layers.RNN, keras.layers.Bidirectional)
ATTENTION_LAYERS = (
    keras.layers.MultiHeadAttention, keras.layers.Attention, keras.layers.AdditiveAttention,
)
ACTIVATION_LAYERS = (
    keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU,
    keras.layers.ELU, keras.layers.Softmax, keras_act.ActivationLayer,
)
NORMALIZATION_LAYERS = (
    keras.layers.BatchNormalization, keras.layers.LayerNormalization,
    keras.layers.GroupNormalization, keras.layers.UnitNormalization, keras.layers.Normalization,
)
# Layers that pass values through without changing what an activation sees.
TRANSPARENT_LAYERS = (
    keras.layers.InputLayer, keras.layers.Dropout, keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D, keras.layers.GaussianNoise,
    keras.layers.GaussianDropout, keras.layers.AlphaDropout, keras.layers.Flatten,
    keras.layers.Reshape, keras.layers.Permute, keras.layers.ActivityRegularization,
    keras.layers.Masking,
)
MAX_POOLING_LAYERS = (
    keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D,
    keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D,
)
AVERAGE_POOLING_LAYERS = (
    keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D,
    keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
)
MERGE_LAYERS = (
    keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply, keras.layers.Average,
    keras.layers.Maximum, keras.layers.Minimum, keras.layers.Concatenate, keras.layers.Dot,
)

# Order matters: an activation layer is checked before the generic kinds.
_KINDS = (
    ("activation", ACTIVATION_LAYERS),
    ("weight", WEIGHT_LAYERS),
    ("recurrent", RECURRENT_LAYERS),
    ("attention", ATTENTION_LAYERS),
    ("normalization", NORMALIZATION_LAYERS),
    ("transparent", TRANSPARENT_LAYERS),
    ("max_pooling", MAX_POOLING_LAYERS),
    ("average_pooling", AVERAGE_POOLING_LAYERS),
    ("merge", MERGE_LAYERS),
)


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the advisor sees it.

    Attributes:
        name: the layer's name.
        class_name: its class, e.g. ``"Dense"``.
        kind: ``"weight"`` (Dense, Conv, ...), ``"recurrent"``, ``"attention"``, ``"activation"``,
            ``"normalization"``, ``"transparent"`` (Dropout, Flatten, ...), ``"max_pooling"``,
            ``"average_pooling"``, ``"merge"`` or ``"unknown"`` (a custom layer).
        activation: the activation it applies (a keras_act id where keras_act has one, else
            Keras' name), ``"linear"`` for a weight layer without one, None for layers that
            apply none (Dropout, normalization, ...).
        units: the size of its output's last axis, when known.
        kernel_initializer: Keras' name for its kernel initializer (``"glorot_uniform"``), if any.
        inbound: names of the layers feeding it.

    Example:
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

    @property
    def has_weights(self) -> bool:
        """Whether the layer holds a kernel that counts toward a network's depth."""
        return self.kind in ("weight", "recurrent", "attention")


def activation_id(activation: Any) -> str | None:
    """The keras_act id (or Keras name) of an activation function, string or layer.

    Example:
        >>> import keras
        >>> activation_id(keras.activations.silu), activation_id(keras.layers.LeakyReLU())
        ('swish', 'leaky_relu')
    """
    if activation is None:
        return None
    if isinstance(activation, keras_act.ActivationLayer):
        return activation.activation_id
    if isinstance(activation, keras.layers.Activation):
        return activation_id(activation.activation)
    if isinstance(activation, keras.layers.ReLU):
        return "leaky_relu" if float(activation.negative_slope) > 0 else "relu"
    for cls, name in ((keras.layers.LeakyReLU, "leaky_relu"), (keras.layers.PReLU, "prelu"),
                      (keras.layers.ELU, "elu"), (keras.layers.Softmax, "softmax")):
        if isinstance(activation, cls):
            return name
    if isinstance(activation, str):
        activation = keras.activations.get(activation)
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return _KERAS_ALIASES.get(name, name)


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def initializer_name(initializer: Any) -> str | None:
    """Keras' string name of an initializer object (``GlorotUniform()`` -> ``"glorot_uniform"``).

    Example:
        >>> import keras
        >>> initializer_name(keras.initializers.HeNormal())
        'he_normal'
    """
    if initializer is None:
        return None
    if isinstance(initializer, str):
        return snake_case(type(keras.initializers.get(initializer)).__name__)
    return snake_case(type(initializer).__name__)


def _kind(layer: keras.layers.Layer) -> str:
    for kind, classes in _KINDS:
        if isinstance(layer, classes):
            return kind
    return "unknown"


def _units(layer: keras.layers.Layer) -> int | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return getattr(layer, "units", None) or getattr(layer, "filters", None)
    return int(shape[-1]) if shape and shape[-1] is not None else None


def _inbound(layer: keras.layers.Layer) -> tuple[str, ...]:
    names: list[str] = []
    for node in getattr(layer, "_inbound_nodes", []):
        for parent in node.parent_nodes:
            names.append(parent.operation.name)
    return tuple(dict.fromkeys(names))


def inspect_layer(layer: keras.layers.Layer) -> LayerInfo:
    """Describe one layer.

    Example:
        >>> import keras_act
        >>> inspect_layer(keras_act.Swish()).activation
        'swish'
    """
    kind = _kind(layer)
    if kind == "activation":
        activation = activation_id(layer)
    elif kind == "weight":
        activation = activation_id(getattr(layer, "activation", None)) or "linear"
    else:
        activation = None
    initializer = getattr(layer, "kernel_initializer", None)
    if initializer is None and kind == "recurrent":
        cell = getattr(getattr(layer, "forward_layer", layer), "cell", None)
        initializer = getattr(cell, "kernel_initializer", None)
    return LayerInfo(
        name=layer.name,
        class_name=type(layer).__name__,
        kind=kind,
        activation=activation,
        units=_units(layer),
        kernel_initializer=initializer_name(initializer),
        inbound=_inbound(layer),
    )


def inspect_model(model: keras.Model) -> list[LayerInfo]:
    """Describe every layer of a built Sequential or Functional model, inputs first.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        >>> [(i.class_name, i.activation) for i in inspect_model(model)]
        [('Dense', 'softmax')]
    """
    return [inspect_layer(layer) for layer in model.layers]


@dataclass
class LayerGraph:
    """The layers of a model and who feeds whom, for walking from one activation site to the next.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2), keras.layers.ReLU()])
        >>> graph = LayerGraph(inspect_model(model))
        >>> graph.effective_activation(graph.layers[0])
        'relu'
    """

    layers: list[LayerInfo]
    consumers: dict[str, list[LayerInfo]] = field(init=False)

    def __post_init__(self) -> None:
        self.consumers = {info.name: [] for info in self.layers}
        for info in self.layers:
            for parent in info.inbound:
                self.consumers.setdefault(parent, []).append(info)

    def next_layer(self, info: LayerInfo, skip: tuple[str, ...] = ("transparent",)) -> LayerInfo | None:
        """The single layer `info` feeds, past layers of the `skip` kinds; None at a fork or end."""
        following = self.consumers.get(info.name, [])
        while len(following) == 1 and following[0].kind in skip:
            following = self.consumers.get(following[0].name, [])
        return following[0] if len(following) == 1 else None

    def effective_activation(self, info: LayerInfo) -> str | None:
        """A weight layer's activation, or that of the activation layer that follows it."""
        if info.activation not in (None, "linear"):
            return info.activation
        following = self.next_layer(info)
        return following.activation if following and following.kind == "activation" else info.activation


def feeding_weight_layer(graph: LayerGraph, info: LayerInfo) -> LayerInfo | None:
    """The weight layer whose output reaches `info` through transparent or normalization layers."""
    by_name = {layer.name: layer for layer in graph.layers}
    current: LayerInfo | None = info
    while current is not None and len(current.inbound) == 1:
        current = by_name.get(current.inbound[0])
        if current is None or current.kind == "weight":
            return current
        if current.kind not in ("transparent", "normalization"):
            return None
    return None


def output_sites(model: keras.Model, graph: LayerGraph) -> list[list[LayerInfo]]:
    """Per model output, in order, the layers that make it: its last layer and, for an
    activation layer, the weight layer feeding it."""
    by_name = {info.name: info for info in graph.layers}
    sites = []
    for tensor in model.outputs:
        info = by_name.get(tensor._keras_history.operation.name)
        if info is None:
            sites.append([])
            continue
        feeding = feeding_weight_layer(graph, info) if info.kind == "activation" else None
        sites.append([info] if feeding is None else [info, feeding])
    return sites


def output_site_names(model: keras.Model, graph: LayerGraph) -> set[str]:
    """The names of every output's layers (see `output_sites`)."""
    return {info.name for site in output_sites(model, graph) for info in site}
