"""The one model view every part of the advisor reads: what each layer computes and what role it
plays.

`view(model)` walks the whole graph, `keras.ops` nodes (``x + 3``, ``x * y``) and nested models
(ConvNeXt's stem, a `Sequential` backbone in a transfer-learning model) included, and returns a
`ModelView`:

- `layers`: one `LayerInfo` per node, inputs first: its kind (weight, activation, normalization,
  preprocessing, ...), the activation it applies, width, kernel initializer and inbound edges.
- `sites`: one `Site` per place an activation is applied (a weight layer's `activation=`, an
  activation layer, a `keras.ops` activation), each with its *role*, and one per weight layer
  left linear, with its role. A weight layer's activation is what follows it through
  normalization, dropout and reshaping: conv -> BatchNormalization -> ReLU is one relu site.
- `heads`: one `Head` per model output, with the output's name, its output site and its own
  loss (matched by name for dict losses, by position for lists).
- `inputs`: one `ModelInput` per model input: its dtype, and what it meets before the first
  weight layer on each path (scaling layers, text/category/token encoders, or nothing: raw numbers).
- structure flags: normalization layers, residual adds (`Add` layers and `keras.ops` adds of two
  tensors), conv / depthwise / dense, embeddings, recurrent and attention layers, and the
  preprocessing layers that scale the inputs inside the model.

Roles (defined here once):

- ``"output"``: the activation that makes a model output (and that output's weight layer).
- ``"gate"``: its value multiplies another tensor (a `Multiply` layer or a `keras.ops` product
  of two tensors), possibly through `keras.ops` arithmetic with constants on the way, as in
  MobileNetV3's hard sigmoid ``ReLU(6.)(x + 3) * (1/6)``: squeeze-excitation, GLU, LSTM-style
  gates and self-gated activations (``x * sigmoid(x)``). Its range is the design; it is kept.
- ``"recurrent"``: an LSTM/GRU/RNN cell's activation (the cell's gates need tanh/sigmoid).
- ``"bottleneck"``: a weight layer left linear by design: it feeds a residual add (MobileNetV2's
  linear bottleneck, a ResNet block's last conv, a transformer's output projection), a
  normalization layer (a projection: conv -> BN, ConvNeXt's depthwise conv -> LayerNormalization),
  a layer that is not a weight layer (attention, a merge, pooling), a `Reshape` into a conv stack
  (DCGAN's "project and reshape"), or it is narrower than both its input and the next weight
  layer (an autoencoder's code layer: a low-rank map).
- ``"linear"``: a weight layer with no nonlinearity before the next weight layer (the
  `linear-hidden` finding).
- ``"feed_forward"``: a hidden activation inside an attention block's feed-forward network (its
  weight layer reads, through normalization, dropout and residual adds, an attention layer's
  output): the transformer's ReLU/GELU. Replaced like a hidden one.
- ``"frozen"``: a hidden or feed-forward activation of a frozen layer (``trainable=False``: a
  pretrained backbone under a new head). Its weights were trained with it, so it is kept.
- ``"hidden"``: every other activation: what the advice's hidden activation replaces.

`HIDDEN_ROLES` (hidden and feed-forward) are what `ModelView.hidden_sites` returns.

Activations are read from what a layer computes (its `activation` attribute, the activation
layer's settings, the op), never from the class alone, and named with one id: the keras_act id
where keras_act has one (``silu`` reads as ``swish``), else Keras' own name (``relu6``,
``hard_swish``, ``celu``, ``log_softmax``, ...). What the advisor cannot name (a Python function
of the user's, a `ReLU` with an unusual `max_value`) keeps an id in `UNREADABLE` form and is
reported, never guessed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import keras

import keras_act

from ._keras_compat import (
    PREPROCESSING_MODULE, TRANSPARENT_MODULES, Functional, inbound_nodes, model_nodes, producer,
)

# Keras activation names under the ids the advisor uses (keras_act's, or the usual paper name).
ACTIVATION_ALIASES = {"silu": "swish", "hard_silu": "hard_swish", "linear": "linear"}
# Every activation Keras 3 ships, by the id the advisor uses for it.
KERAS_ACTIVATIONS = frozenset(
    ACTIVATION_ALIASES.get(name, name) for name in dir(keras.activations)
    if not name.startswith("_") and name not in ("get", "serialize", "deserialize")
)
KNOWN_ACTIVATIONS = KERAS_ACTIVATIONS | frozenset(keras_act.names())
# Prefix of the id of an activation the advisor cannot name (see `activation_id`).
UNREADABLE = "unreadable:"

WEIGHT_LAYERS = (
    keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Conv1D, keras.layers.Conv2D,
    keras.layers.Conv3D, keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose, keras.layers.SeparableConv1D, keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
)
CONV_LAYERS = WEIGHT_LAYERS[2:]  # every Conv, from Conv1D on
DEPTHWISE_LAYERS = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
                    keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
RECURRENT_LAYERS = (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.ConvLSTM1D,
                    keras.layers.ConvLSTM2D, keras.layers.ConvLSTM3D)
ATTENTION_LAYERS = (
    keras.layers.MultiHeadAttention, keras.layers.Attention, keras.layers.AdditiveAttention,
    keras.layers.GroupQueryAttention,
)
ACTIVATION_LAYERS = (
    keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU,
    keras.layers.ELU, keras.layers.Softmax, keras_act.ActivationLayer,
)
NORMALIZATION_LAYERS = (
    keras.layers.BatchNormalization, keras.layers.LayerNormalization,
    keras.layers.GroupNormalization, keras.layers.UnitNormalization,
) + tuple(getattr(keras.layers, name) for name in ("SpectralNormalization", "RMSNormalization")
          if hasattr(keras.layers, name))  # newer Keras versions
EMBEDDING_LAYERS = (keras.layers.Embedding,)
MERGE_LAYERS = (
    keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply, keras.layers.Average,
    keras.layers.Maximum, keras.layers.Minimum, keras.layers.Concatenate, keras.layers.Dot,
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
# Layers that carry values through without a nonlinearity an activation would notice: dropout
# and noise, reshaping and padding, masking, identity, and Keras applications' LayerScale and
# StochasticDepth (a per-channel scale; dropping a residual branch).
TRANSPARENT_LAYERS = (
    keras.layers.InputLayer, keras.layers.Dropout, keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D, keras.layers.GaussianNoise,
    keras.layers.GaussianDropout, keras.layers.AlphaDropout, keras.layers.ActivityRegularization,
    keras.layers.Masking, keras.layers.Identity,
)
_TRANSPARENT_CLASS_NAMES = ("LayerScale", "StochasticDepth")
# Preprocessing layers that put the inputs on a scale (the rest resize, crop or augment).
SCALING_LAYERS = (keras.layers.Rescaling, keras.layers.Normalization)
# Layers that turn text, categories or token ids into numbers: what they read is not on a scale.
ENCODING_LAYERS = (
    keras.layers.TextVectorization, keras.layers.StringLookup, keras.layers.IntegerLookup,
    keras.layers.Hashing, keras.layers.CategoryEncoding, keras.layers.Discretization,
    keras.layers.Embedding,
)

# `keras.ops` node classes that compute an activation, by the activation's id.
_OP_ACTIVATIONS = {
    "Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus",
    "Softsign": "softsign", "Silu": "swish", "Swish": "swish", "LogSigmoid": "log_sigmoid",
    "LeakyRelu": "leaky_relu", "HardSigmoid": "hard_sigmoid", "HardSilu": "hard_swish",
    "HardSwish": "hard_swish", "Elu": "elu", "Selu": "selu", "Gelu": "gelu", "Celu": "celu",
    "Glu": "glu", "HardTanh": "hard_tanh", "HardShrink": "hard_shrink", "SoftShrink": "soft_shrink",
    "TanhShrink": "tanh_shrink", "Squareplus": "squareplus", "SparsePlus": "sparse_plus",
    "SparseSigmoid": "sparse_sigmoid", "Softmax": "softmax", "LogSoftmax": "log_softmax",
    "Sparsemax": "sparsemax", "Threshold": "threshold", "Mish": "mish",
}
# `keras.ops` arithmetic: with one tensor and a constant it rescales or shifts (transparent to
# the role); with two tensors Add is a residual add and Multiply a gate.
_OP_ARITHMETIC = ("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Negative")

# Nodes whose two tensor inputs multiply: what makes an activation feeding them a gate.
_PRODUCTS = ("Multiply", "Dot", "Matmul", "Einsum")

ROLES = ("hidden", "feed_forward", "output", "gate", "recurrent", "bottleneck", "linear", "frozen")
HIDDEN_ROLES = ("hidden", "feed_forward")
# How far back (nodes) a feed-forward layer looks for its block's attention layer: through a
# LayerNormalization, a dropout and the residual add.
_FEED_FORWARD_REACH = 4


@dataclass(frozen=True)
class LayerInfo:
    """One node of the model graph as the advisor sees it (a layer, or a `keras.ops` node).

    Attributes:
        name: the layer's (or op's) name.
        class_name: its class, e.g. ``"Dense"``, ``"Add"``.
        kind: ``"weight"`` (Dense, Conv, ...), ``"recurrent"``, ``"attention"``,
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
        top_level: whether it is one of the model's own layers (not inside a nested model, not
            an op): only those can be tapped by the diagnostics.
        start: for a learnable keras_act activation, the fixed one it starts as (see
            `start_of`); None otherwise.
        trainable: False for a frozen layer (``trainable=False``, itself or a model around it).

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
    tensor_inputs: int = 1
    top_level: bool = True
    start: str | None = None
    trainable: bool = True

    @property
    def has_weights(self) -> bool:
        """Whether the layer holds a kernel that counts toward a network's depth."""
        return self.kind in ("weight", "recurrent", "attention")


def start_of(activation: Any) -> str | None:
    """The fixed activation a learnable keras_act layer starts as: a Rational its `approx`, ACON
    Swish (its defaults are Swish); None for every other activation (Snake starts as none).

    The advisor reasons about initializers with it: a Rational fitted to tanh saturates like tanh.

    Example:
        >>> import keras_act
        >>> start_of(keras_act.Rational("tanh")), start_of(keras_act.ACON()), start_of(keras_act.ReLU())
        ('tanh', 'swish', None)
    """
    if isinstance(activation, keras_act.Rational):
        return activation.approx
    if isinstance(activation, keras_act.ACON):
        return "swish"
    return None


def _relu_layer_id(layer: keras.layers.ReLU) -> str:
    slope = float(layer.negative_slope or 0.0)
    max_value = None if layer.max_value is None else float(layer.max_value)
    threshold = float(layer.threshold or 0.0)
    if threshold == 0.0 and max_value is None:
        return "leaky_relu" if slope > 0 else "relu"
    if threshold == 0.0 and slope == 0.0 and max_value == 6.0:
        return "relu6"
    return (f"{UNREADABLE}ReLU(max_value={max_value:g}, negative_slope={slope:g}, "
            f"threshold={threshold:g})" if max_value is not None else
            f"{UNREADABLE}ReLU(negative_slope={slope:g}, threshold={threshold:g})")


def activation_id(activation: Any) -> str | None:
    """The id of an activation function, string or layer: keras_act's id, else Keras' name.

    Ids outside `KNOWN_ACTIVATIONS` (a user's own function) start with `UNREADABLE`.

    Example:
        >>> import keras
        >>> activation_id(keras.activations.silu), activation_id(keras.layers.ReLU(6.0))
        ('swish', 'relu6')
        >>> activation_id(keras.activations.hard_silu), activation_id(lambda x: x * 2)
        ('hard_swish', 'unreadable:<lambda>')
    """
    if activation is None:
        return None
    if isinstance(activation, keras_act.ActivationLayer):
        return activation.activation_id
    if isinstance(activation, keras.layers.Activation):
        return activation_id(activation.activation)
    if isinstance(activation, keras.layers.ReLU):
        return _relu_layer_id(activation)
    for cls, name in ((keras.layers.LeakyReLU, "leaky_relu"), (keras.layers.PReLU, "prelu"),
                      (keras.layers.ELU, "elu"), (keras.layers.Softmax, "softmax")):
        if isinstance(activation, cls):
            return name
    if isinstance(activation, str):
        try:
            activation = keras.activations.get(activation)
        except ValueError:
            return f"{UNREADABLE}{activation}"
    name = getattr(activation, "__name__", None) or type(activation).__name__
    name = ACTIVATION_ALIASES.get(name, name)
    return name if name in KNOWN_ACTIVATIONS else f"{UNREADABLE}{name}"


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``.

    Example:
        >>> snake_case("HeNormal")
        'he_normal'
    """
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


def _unwrap(layer: Any) -> Any:
    """The layer a `TimeDistributed` wrapper applies (it computes what its inner layer does)."""
    return layer.layer if isinstance(layer, keras.layers.TimeDistributed) else layer


def _kind(operation: Any) -> str:
    layer = _unwrap(operation)
    if not isinstance(layer, keras.layers.Layer):
        name = type(layer).__name__
        if name in _OP_ACTIVATIONS:
            return "activation"
        return "op"
    for kind, classes in (
        ("activation", ACTIVATION_LAYERS), ("weight", WEIGHT_LAYERS), ("recurrent", RECURRENT_LAYERS),
        ("attention", ATTENTION_LAYERS), ("normalization", NORMALIZATION_LAYERS),
        ("embedding", EMBEDDING_LAYERS), ("transparent", TRANSPARENT_LAYERS),
        ("max_pooling", MAX_POOLING_LAYERS), ("average_pooling", AVERAGE_POOLING_LAYERS),
        ("merge", MERGE_LAYERS),
    ):
        if isinstance(layer, classes):
            return kind
    module = type(layer).__module__
    if module.startswith(PREPROCESSING_MODULE):
        return "preprocessing"
    if module.startswith(TRANSPARENT_MODULES) or type(layer).__name__ in _TRANSPARENT_CLASS_NAMES:
        return "transparent"
    if isinstance(layer, keras.layers.Lambda) or not module.startswith(("keras.", "keras_act.")):
        return "unknown"
    return "other"


def _units(layer: Any) -> int | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return getattr(layer, "units", None) or getattr(layer, "filters", None)
    return int(shape[-1]) if shape and shape[-1] is not None else None


def _cell(layer: Any) -> Any:
    """A recurrent layer's cell (a Bidirectional's forward cell)."""
    return getattr(getattr(layer, "forward_layer", layer), "cell", None)


def _activation_of(operation: Any, kind: str) -> str | None:
    layer = _unwrap(operation)
    if kind == "activation":
        if not isinstance(layer, keras.layers.Layer):
            return _OP_ACTIVATIONS[type(layer).__name__]
        return activation_id(layer)
    if kind == "weight":
        return activation_id(getattr(layer, "activation", None)) or "linear"
    if kind == "recurrent":
        return activation_id(getattr(_cell(layer), "activation", None))
    return None


def _start_of(operation: Any, kind: str) -> str | None:
    layer = _unwrap(operation)
    return start_of(layer if kind == "activation" else getattr(layer, "activation", None))


def _initializer_of(operation: Any, kind: str) -> str | None:
    layer = _unwrap(operation)
    initializer = getattr(layer, "kernel_initializer", None) or getattr(layer, "depthwise_initializer", None)
    if initializer is None and kind == "recurrent":
        initializer = getattr(_cell(layer), "kernel_initializer", None)
    return initializer_name(initializer)


def inspect_layer(layer: Any, inbound: tuple[str, ...] = (), tensor_inputs: int = 1,
                  top_level: bool = True) -> LayerInfo:
    """Describe one layer (or `keras.ops` node).

    Example:
        >>> import keras_act
        >>> inspect_layer(keras_act.Swish()).activation
        'swish'
    """
    kind = _kind(layer)
    is_layer = isinstance(layer, keras.layers.Layer)
    return LayerInfo(
        name=layer.name,
        class_name=type(layer).__name__,
        kind=kind,
        activation=_activation_of(layer, kind),
        units=_units(layer) if is_layer else None,
        kernel_initializer=_initializer_of(layer, kind) if is_layer else None,
        inbound=inbound,
        tensor_inputs=tensor_inputs,
        top_level=top_level and is_layer,
        start=_start_of(layer, kind) if is_layer else None,
        trainable=bool(layer.trainable) if is_layer else True,
    )


def _is_model(layer: Any) -> bool:
    return isinstance(layer, (keras.Sequential, Functional))


def _walk(model: keras.Model, entry: tuple[str, ...], top_level: bool,
          out: list[LayerInfo], keras_layers: dict[str, Any]) -> tuple[str, ...]:
    """Append `model`'s nodes to `out` (nested models flattened); return the names of the nodes
    that produce its outputs. `entry`: the nodes feeding its inputs (empty at the top)."""
    if isinstance(model, keras.Sequential):
        previous = entry
        for layer in model.layers:
            previous = _add(layer, previous, 1, top_level, out, keras_layers)
        return previous
    own_nodes = model_nodes(model)
    alias: dict[str, tuple[str, ...]] = {}
    for operation in model.operations:
        if isinstance(operation, keras.layers.InputLayer):
            alias[operation.name] = entry or _add(operation, (), 0, top_level, out, keras_layers)
            continue
        for node in inbound_nodes(operation):
            if id(node) not in own_nodes:
                continue
            parents = tuple(dict.fromkeys(
                name for parent in node.parent_nodes
                for name in alias.get(parent.operation.name, (parent.operation.name,))))
            alias[operation.name] = _add(operation, parents, len(node.arguments.keras_tensors),
                                         top_level, out, keras_layers)
    outputs = [producer(tensor).name for tensor in model.outputs]
    return tuple(dict.fromkeys(name for output in outputs for name in alias.get(output, (output,))))


def _add(operation: Any, inbound: tuple[str, ...], tensor_inputs: int, top_level: bool,
         out: list[LayerInfo], keras_layers: dict[str, Any]) -> tuple[str, ...]:
    if _is_model(operation):
        return _walk(operation, inbound, False, out, keras_layers)
    if operation.name in keras_layers:  # a shared layer applied again: one node, more edges
        index = next(i for i, info in enumerate(out) if info.name == operation.name)
        old = out[index]
        out[index] = LayerInfo(**{**old.__dict__, "inbound": tuple(dict.fromkeys(old.inbound + inbound))})
        return (operation.name,)
    keras_layers[operation.name] = operation
    out.append(inspect_layer(operation, inbound, tensor_inputs, top_level))
    return (operation.name,)


def inspect_model(model: keras.Model) -> list[LayerInfo]:
    """Describe every node of a built Sequential or Functional model, inputs first (nested
    models flattened, `keras.ops` nodes included).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        >>> [(i.class_name, i.activation) for i in inspect_model(model)]
        [('Dense', 'softmax')]
    """
    out: list[LayerInfo] = []
    _walk(model, (), True, out, {})
    return out


@dataclass(frozen=True)
class Site:
    """One place an activation is applied (or a weight layer left linear), with its role.

    Attributes:
        name: the node that applies the activation (the weight layer itself when it is applied
            by its `activation=` argument or the layer is linear).
        weight: the weight layer whose output it activates, reached through normalization,
            dropout and reshaping; None for an activation with no weight layer before it.
        activation: the activation's id (``"linear"`` for a linear weight layer).
        role: one of `ROLES`.
        head: for an output site, the output's name.
        composite: a self-gated activation built from several nodes, ``x * g(x)`` (MobileNetV3's
            hard-swish ``x * ReLU6(x + 3) / 6``, swish as ``x * sigmoid(x)``); `name` is the
            product node. It reads as the activation it computes and is never rebuilt.
        start: for a learnable keras_act activation, the fixed one it starts as (`start_of`).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="d"),
        ...     keras.layers.BatchNormalization(), keras.layers.ReLU(name="r"), keras.layers.Dense(1)])
        >>> view(model).sites[0]
        Site(name='r', weight='d', activation='relu', role='hidden', head=None, composite=False, start=None)
    """

    name: str
    weight: str | None
    activation: str
    role: str
    head: str | None = None
    composite: bool = False
    start: str | None = None

    @property
    def readable(self) -> bool:
        """Whether the advisor can name this activation."""
        return not self.activation.startswith(UNREADABLE)


@dataclass(frozen=True)
class ModelInput:
    """One model input, and what it meets on its way to the first weight layer of each path.

    Attributes:
        name: the input's name (its `keras.Input`'s), what dict inputs are keyed by.
        dtype: its dtype (``"float32"``, ``"int64"``, ``"string"``...).
        scaled_by: the scaling layers on its paths (`SCALING_LAYERS`, a normalization layer).
        encoded_by: the layers that encode it (`ENCODING_LAYERS`: text, lookups, embeddings).
        raw: whether some path reaches a weight layer with neither: numbers the user scales.

    Example:
        >>> import keras
        >>> inputs = keras.Input((4,), name="features")
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Normalization(name="norm")(inputs)))
        >>> view(model).inputs
        [ModelInput(name='features', dtype='float32', scaled_by=('norm',), encoded_by=(), raw=False)]
    """

    name: str
    dtype: str
    scaled_by: tuple[str, ...] = ()
    encoded_by: tuple[str, ...] = ()
    raw: bool = True

    @property
    def takes_text(self) -> bool:
        """Whether it takes strings."""
        return self.dtype == "string"


@dataclass(frozen=True)
class Head:
    """One model output: its name, how it is made, and the loss it trains with.

    Attributes:
        name: the output's name: its key when the model's outputs are a dict, else its layer's
            name (`model.output_names`); what dict losses and labels are keyed by.
        index: its position in `model.outputs`.
        layer: the node that decides its activation (an activation layer, or the weight layer).
        weight: the weight layer that feeds it (the same as `layer` when that is the weight layer).
        activation: the output activation's id.
        units: its width.
        loss: the Keras loss it was compiled with (a string, `Loss` or function), or None.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", "categorical_crossentropy")
        >>> head = view(model).heads[0]
        >>> head.activation, head.units, head.loss
        ('softmax', 3, 'categorical_crossentropy')
    """

    name: str
    index: int
    layer: LayerInfo | None
    weight: LayerInfo | None
    activation: str | None
    units: int | None
    loss: Any = None


def _loss_for(compiled: Any, names: tuple[str, ...], index: int) -> Any:
    """A head's loss from the compiled loss: by name in a dict (the output's key, else its
    layer's name), by position in a list."""
    if isinstance(compiled, dict):
        return next((compiled[name] for name in names if name in compiled), None)
    if isinstance(compiled, (list, tuple)):
        return compiled[index] if index < len(compiled) else None
    return compiled


@dataclass
class ModelView:
    """A model as the advisor reads it: its nodes, activation sites with roles, heads and structure.

    Build it with `view(model)`.

    Example:
        >>> import keras
        >>> inputs = keras.Input((8, 8, 3))
        >>> x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
        >>> x = keras.layers.BatchNormalization()(x)
        >>> x = keras.layers.Activation("relu")(x)
        >>> y = keras.layers.Conv2D(4, 3, padding="same")(x)
        >>> x = keras.layers.ReLU()(keras.layers.Add()([x, y]))
        >>> outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
        >>> v = view(keras.Model(inputs, outputs))
        >>> [(s.activation, s.role) for s in v.sites]
        [('relu', 'hidden'), ('linear', 'bottleneck'), ('relu', 'hidden'), ('softmax', 'output')]
        >>> v.has_normalization, v.residual_adds, v.own_hidden_activation
        (True, 1, 'relu')
    """

    layers: list[LayerInfo]
    keras_layers: dict[str, Any]
    heads: list[Head]
    sites: list[Site] = field(default_factory=list)
    consumers: dict[str, list[LayerInfo]] = field(default_factory=dict)
    by_name: dict[str, LayerInfo] = field(default_factory=dict)
    inputs: list[ModelInput] = field(default_factory=list)
    _site_index: dict[str, Site] = field(default_factory=dict, repr=False)

    # --- walking -------------------------------------------------------------------------
    def next_layer(self, info: LayerInfo, skip: tuple[str, ...] = ("transparent",)) -> LayerInfo | None:
        """The single node `info` feeds, past nodes of the `skip` kinds; None at a fork or end."""
        following = self.consumers.get(info.name, [])
        while len(following) == 1 and following[0].kind in skip:
            following = self.consumers.get(following[0].name, [])
        return following[0] if len(following) == 1 else None

    def feeding_weight_layer(self, info: LayerInfo) -> LayerInfo | None:
        """The weight layer whose output reaches `info` through transparent or normalization nodes."""
        current: LayerInfo | None = info
        while current is not None and len(current.inbound) == 1:
            current = self.by_name.get(current.inbound[0])
            if current is None or current.kind == "weight":
                return current
            if current.kind not in ("transparent", "normalization"):
                return None
        return None

    def site_of(self, name: str) -> Site | None:
        """The site a node (weight layer or activation node) belongs to."""
        return self._site_index.get(name)

    # --- structure -----------------------------------------------------------------------
    def of_kind(self, *kinds: str) -> list[LayerInfo]:
        """The nodes of the given kinds, in order."""
        return [info for info in self.layers if info.kind in kinds]

    @property
    def has_normalization(self) -> bool:
        """Whether a normalization layer (BatchNormalization, LayerNormalization, ...) is present."""
        return bool(self.of_kind("normalization"))

    @property
    def residual_adds(self) -> int:
        """How many adds of two tensors (`Add` layers, `keras.ops` adds) the graph holds."""
        return sum(1 for info in self.layers if _is_residual_add(info))

    @property
    def has_conv(self) -> bool:
        """Whether a convolution layer is present."""
        return any(isinstance(_unwrap(self.keras_layers[i.name]), CONV_LAYERS) for i in self.of_kind("weight"))

    @property
    def has_depthwise(self) -> bool:
        """Whether a depthwise or separable convolution is present."""
        return any(isinstance(_unwrap(self.keras_layers[i.name]), DEPTHWISE_LAYERS) for i in self.of_kind("weight"))

    @property
    def has_recurrent(self) -> bool:
        """Whether a recurrent layer (LSTM, GRU, SimpleRNN, ...) is present."""
        return bool(self.of_kind("recurrent"))

    @property
    def has_attention(self) -> bool:
        """Whether an attention layer is present."""
        return bool(self.of_kind("attention"))

    @property
    def has_embedding(self) -> bool:
        """Whether an Embedding layer is present."""
        return bool(self.of_kind("embedding"))

    @property
    def input_scaling(self) -> list[str]:
        """The scaling layers (Rescaling, Normalization, a first BatchNormalization or
        LayerNormalization) on the inputs' paths before their first weight layer."""
        return list(dict.fromkeys(name for model_input in self.inputs for name in model_input.scaled_by))

    @property
    def raw_inputs(self) -> list[int]:
        """The positions (in `model.inputs`) of the inputs that reach a weight layer as raw numbers,
        neither scaled nor encoded inside the model: the inputs an input-range advice is for."""
        return [i for i, model_input in enumerate(self.inputs) if model_input.raw and not model_input.takes_text]

    @property
    def depth(self) -> int:
        """Hidden weight layers (Dense, Conv, recurrent, attention), not counting the heads' own."""
        head_weights = {head.weight.name for head in self.heads if head.weight is not None}
        return sum(1 for info in self.layers if info.has_weights and info.name not in head_weights)

    def hidden_sites(self) -> list[Site]:
        """The sites whose activation the advice's hidden activation replaces."""
        return [site for site in self.sites if site.role in HIDDEN_ROLES]

    @property
    def own_hidden_activation(self) -> str | None:
        """The model's most common hidden activation (first seen on a tie), or None."""
        return _most_common([site.activation for site in self.hidden_sites() if site.readable])

    @property
    def own_hidden_start(self) -> str | None:
        """What the model's own hidden activation starts as, when it is a learnable one whose
        start is known (`start_of`), else None."""
        own = self.own_hidden_activation
        return _most_common([site.start for site in self.hidden_sites() if site.activation == own and site.start])

    @property
    def own_hidden_initializer(self) -> str | None:
        """The most common kernel initializer of the hidden sites' weight layers, or None."""
        return _most_common([self.by_name[site.weight].kernel_initializer for site in self.hidden_sites()
                             if site.weight and self.by_name[site.weight].kernel_initializer])

    def feeds_residual_add(self, name: str) -> bool:
        """Whether a node's output reaches an add of two tensors through transparent nodes (a
        residual branch's last layer, or a zero-initialized ReZero/LayerScale branch)."""
        following = self.consumers.get(name, [])
        while following:
            if any(_is_residual_add(node) for node in following):
                return True
            following = [c for node in following if node.kind == "transparent" for c in self.consumers.get(node.name, [])]
        return False

    def output_site_names(self) -> set[str]:
        """The names of every head's nodes (its activation node and weight layer)."""
        return {info.name for head in self.heads for info in (head.layer, head.weight) if info is not None}


def _most_common(names: list[str]) -> str | None:
    """The most frequent name, the first seen on a tie; None for none."""
    counts = Counter(names)
    return max(counts, key=counts.__getitem__) if counts else None


def _is_residual_add(info: LayerInfo) -> bool:
    return info.class_name == "Add" and info.kind in ("merge", "op") and info.tensor_inputs >= 2


def _is_product(info: LayerInfo) -> bool:
    return info.class_name in _PRODUCTS and info.tensor_inputs >= 2 and info.kind in ("merge", "op")


def _is_rescaling_op(info: LayerInfo) -> bool:
    return info.kind == "op" and info.class_name in _OP_ARITHMETIC and info.tensor_inputs <= 1


def _reaches_back(v: ModelView, start: str, target: str, limit: int = 64) -> bool:
    """Whether `target` is an ancestor of `start` within `limit` nodes (a squeeze-excitation
    branch is about ten nodes long)."""
    seen, frontier = {start}, [start]
    while frontier and len(seen) < limit:
        name = frontier.pop()
        if name == target:
            return True
        for parent in v.by_name[name].inbound:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return target in seen


def _is_gate(v: ModelView, info: LayerInfo) -> bool:
    """Whether `info`'s value gates a product: it reaches one input of a product of two tensors
    (through constant arithmetic and transparent nodes) and the other input does not derive from
    it. The features a squeeze-excitation block rescales also feed the gate's branch, so they
    are not a gate; the sigmoid at the end of that branch is."""
    current = [info]
    for _ in range(8):  # a gate's product is a few nodes away at most (hard sigmoid: 2)
        following = []
        for node in current:
            for consumer in v.consumers.get(node.name, []):
                if _is_product(consumer):
                    others = [p for p in consumer.inbound if p != node.name]
                    if others and not any(_reaches_back(v, other, info.name) for other in others):
                        return True
                elif consumer.kind == "transparent" or _is_rescaling_op(consumer):
                    following.append(consumer)
        if not following:
            return False
        current = following
    return False


def _linear_role(v: ModelView, info: LayerInfo) -> str:
    """Why a hidden weight layer with no activation after it is linear: by design, or not."""
    following = v.consumers.get(info.name, [])
    while len(following) == 1 and following[0].kind == "transparent":
        if following[0].class_name == "Reshape":
            return "bottleneck"  # "project and reshape" into a conv stack (Radford et al. 2015, DCGAN)
        following = v.consumers.get(following[0].name, [])
    if len(following) == 1 and following[0].kind == "normalization":
        # A projection into a normalization layer: MobileNet's linear bottlenecks (conv -> BN),
        # ConvNeXt's depthwise conv -> LayerNormalization (not a linear map at all).
        return "bottleneck"
    if len(following) != 1:
        return "bottleneck"  # it forks: a residual branch or several consumers
    nxt = following[0]
    if nxt.kind == "activation" and nxt.activation == "linear":
        return _linear_role(v, nxt)
    if nxt.kind != "weight":
        return "bottleneck"
    layer, nxt_layer = v.keras_layers[info.name], v.keras_layers[nxt.name]
    if isinstance(_unwrap(layer), DEPTHWISE_LAYERS) or isinstance(_unwrap(nxt_layer), DEPTHWISE_LAYERS):
        return "bottleneck"  # depthwise then pointwise: a factorized conv, one map by design
    fan_in = _fan_in(layer)
    if info.units and nxt.units and fan_in and info.units < min(fan_in, nxt.units):
        return "bottleneck"  # narrower than both neighbours: a low-rank code by design
    return "linear"


def _fan_in(layer: Any) -> int | None:
    kernel = getattr(_unwrap(layer), "kernel", None)
    if kernel is None:
        return None
    return int(math.prod(tuple(kernel.shape)[:-1])) or None


# What a self-gated product ``x * g(x)`` computes, by its gate g.
_SELF_GATED = {"sigmoid": "swish", "hard_sigmoid": "hard_swish", "relu6": "hard_swish"}


def _back(v: ModelView, name: str, through_arithmetic: bool = True) -> LayerInfo | None:
    """Walk back from a node through transparent nodes (and constant arithmetic) to the first
    node that computes something."""
    info = v.by_name.get(name)
    while (info is not None and len(info.inbound) == 1
           and (info.kind == "transparent" or through_arithmetic and _is_rescaling_op(info))):
        info = v.by_name.get(info.inbound[0])
    return info


def _composites(v: ModelView) -> dict[str, Site]:
    """Self-gated products ``x * g(x)``, by the name of the weight layer that makes x."""
    found: dict[str, Site] = {}
    for info in v.layers:
        if not _is_product(info) or len(info.inbound) != 2:
            continue
        for source, gate in (info.inbound, info.inbound[::-1]):
            activation = _back(v, gate)
            if activation is None or activation.kind != "activation" or activation.activation not in _SELF_GATED:
                continue
            if len(activation.inbound) != 1 or _back(v, activation.inbound[0]) is not _back(v, source):
                continue
            weight = v.feeding_weight_layer(v.by_name[source]) if v.by_name[source].kind != "weight" \
                else v.by_name[source]
            key = weight.name if weight is not None else info.name
            found[key] = Site(info.name, weight.name if weight else None, _SELF_GATED[activation.activation],
                              "hidden", composite=True)
            break
    return found


def _after_attention(v: ModelView, weight: str | None) -> bool:
    """Whether a weight layer reads an attention layer's output through normalization,
    dropout, reshaping and residual adds (a transformer block's feed-forward network)."""
    if weight is None:
        return False
    frontier = list(v.by_name[weight].inbound)
    for _ in range(_FEED_FORWARD_REACH):
        nodes = [v.by_name[name] for name in frontier if name in v.by_name]
        if any(node.kind == "attention" for node in nodes):
            return True
        frontier = [parent for node in nodes
                    if node.kind in ("normalization", "transparent") or _is_residual_add(node)
                    for parent in node.inbound]
    return False


def _frozen_unless_trained(v: ModelView, role: str, name: str, weight: LayerInfo | str | None) -> str:
    """`role`, or ``"frozen"`` for a hidden role whose activation or weight layer is frozen."""
    weight_info = v.by_name.get(weight) if isinstance(weight, str) else weight
    frozen = not v.by_name[name].trainable or (weight_info is not None and not weight_info.trainable)
    return "frozen" if role in HIDDEN_ROLES and frozen else role


def _build_sites(v: ModelView) -> list[Site]:
    head_of: dict[str, str] = {}
    for head in v.heads:
        for info in (head.layer, head.weight):
            if info is not None:
                head_of[info.name] = head.name
    sites: list[Site] = []
    claimed: set[str] = set()
    composites = _composites(v)
    sites += [site for key, site in composites.items() if key not in v.by_name or v.by_name[key].kind != "weight"]
    for info in v.layers:
        if info.kind == "recurrent":
            sites.append(Site(info.name, info.name, info.activation or "linear", "recurrent", start=info.start))
            continue
        if info.kind != "weight":
            continue
        if info.name in composites and info.activation in (None, "linear"):
            sites.append(composites[info.name])
            continue
        name, activation, start = info.name, info.activation or "linear", info.start
        if activation == "linear":
            following = v.next_layer(info, skip=("transparent", "normalization"))
            if following is not None and following.kind == "activation" and following.activation != "linear":
                name, activation, start = following.name, following.activation, following.start
        claimed.add(name)
        head = head_of.get(name) or head_of.get(info.name)
        if head is not None:
            role = "output"
        elif activation == "linear":
            role = _linear_role(v, info)
        else:
            role = ("gate" if _is_gate(v, v.by_name[name]) else
                    "feed_forward" if v.has_attention and _after_attention(v, info.name) else "hidden")
            role = _frozen_unless_trained(v, role, name, info.name)
        sites.append(Site(name, info.name, activation, role, head, start=start))
    for info in v.layers:
        if info.kind != "activation" or info.name in claimed or info.activation == "linear":
            continue
        head = head_of.get(info.name)
        role = "output" if head else "gate" if _is_gate(v, info) else "hidden"
        role = _frozen_unless_trained(v, role, info.name, v.feeding_weight_layer(info))
        sites.append(Site(info.name, None, info.activation, role, head, start=info.start))
    order = {info.name: index for index, info in enumerate(v.layers)}
    return sorted(sites, key=lambda site: order[site.name])


def _read_input(v: ModelView, name: str, roots: list[str], dtype: str) -> ModelInput:
    """What input `name` meets from `roots` (the nodes it enters) up to each path's first weight layer."""
    scaled, encoded, raw = [], [], False
    stack, seen = [(root, False) for root in roots], set()
    while stack:
        name_here, handled = stack.pop()  # handled: scaled or encoded on the way here
        info = v.by_name[name_here]
        if (info.name, handled) in seen:
            continue
        seen.add((info.name, handled))
        layer = v.keras_layers.get(info.name)
        if isinstance(layer, ENCODING_LAYERS):
            encoded.append(info.name)
            handled = True
        elif isinstance(layer, SCALING_LAYERS + NORMALIZATION_LAYERS):
            scaled.append(info.name)
            handled = True
        elif info.has_weights:
            raw = raw or not handled
            continue
        stack.extend((consumer.name, handled) for consumer in v.consumers.get(info.name, []))
    order = {info.name: index for index, info in enumerate(v.layers)}
    return ModelInput(name, dtype, tuple(sorted(set(scaled), key=order.get)),
                      tuple(sorted(set(encoded), key=order.get)), raw)


def _read_inputs(model: keras.Model, v: ModelView) -> list[ModelInput]:
    inputs = list(getattr(model, "inputs", None) or [])
    if isinstance(model, keras.Sequential):  # no input node: the input enters the first layer
        roots = [[info.name for info in v.layers if not info.inbound][:1]]
    else:
        roots = [[producer(tensor).name] for tensor in inputs]
    return [_read_input(v, producer(tensor).name, root, str(tensor.dtype)) for tensor, root in zip(inputs, roots)]


def _output_names(model: keras.Model) -> list[str]:
    """Each output's name as losses and labels are keyed: its key when the model's outputs are a
    dict (Keras matches dict losses by those keys), else `model.output_names`."""
    structure = getattr(model, "_outputs_struct", None)
    if isinstance(structure, dict):
        key_of = {id(tensor): key for key, tensor in structure.items()}
        if all(id(tensor) in key_of for tensor in model.outputs):
            return [key_of[id(tensor)] for tensor in model.outputs]
    return list(getattr(model, "output_names", None) or [])


def view(model: keras.Model) -> ModelView:
    """Read a built Sequential or Functional model into a `ModelView` (the model is only read).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> v = view(model)
        >>> [(s.activation, s.role) for s in v.sites], v.depth
        ([('relu', 'hidden'), ('sigmoid', 'output')], 1)
    """
    layers: list[LayerInfo] = []
    keras_layers: dict[str, Any] = {}
    exits = _walk(model, (), True, layers, keras_layers)
    v = ModelView(layers=layers, keras_layers=keras_layers, heads=[])
    v.by_name = {info.name: info for info in layers}
    v.consumers = {info.name: [] for info in layers}
    for info in layers:
        for parent in info.inbound:
            v.consumers.setdefault(parent, []).append(info)
    names = _output_names(model)
    compiled = getattr(model, "loss", None)
    outputs = [producer(tensor).name for tensor in model.outputs]
    for index, output in enumerate(outputs):
        # A nested model's output: the node inside it that makes the output.
        output = output if output in v.by_name else (exits[index] if index < len(exits) else exits[-1])
        name = names[index] if index < len(names) else output
        layer = _back(v, output, through_arithmetic=False)  # past Dropout, Flatten, ...
        weight = None
        if layer is not None:
            weight = layer if layer.kind == "weight" else (
                v.feeding_weight_layer(layer) if layer.kind == "activation" else None)
        v.heads.append(Head(name, index, layer, weight, layer.activation if layer else None,
                            layer.units if layer else None, _loss_for(compiled, (name, output), index)))
    v.sites = _build_sites(v)
    v.inputs = _read_inputs(model, v)
    for site in v.sites:
        v._site_index[site.name] = site
        if site.weight is not None:
            v._site_index.setdefault(site.weight, site)
    return v
