"""The advisor's vocabulary: Keras' layer classes by what they compute, the activation ids, and
the kinds of node and roles of activation sites, each defined once."""

from __future__ import annotations

import enum
import re
from typing import Any

import keras

import keras_act

from .._keras_compat import single_op

# Keras activation names under the ids the advisor uses (keras_act's, or the usual paper name).
ACTIVATION_ALIASES = {"silu": "swish", "hard_silu": "hard_swish", "linear": "linear"}
# Every activation Keras 3 ships, by the id the advisor uses for it.
KERAS_ACTIVATIONS = frozenset(
    ACTIVATION_ALIASES.get(name, name)
    for name in dir(keras.activations)
    if not name.startswith("_") and name not in ("get", "serialize", "deserialize")
)
KNOWN_ACTIVATIONS = KERAS_ACTIVATIONS | frozenset(keras_act.names())
# Prefix of the id of an activation the advisor cannot name (see `activation_id`).
UNREADABLE = "unreadable:"

WEIGHT_LAYERS = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)
CONV_LAYERS = WEIGHT_LAYERS[2:]  # every Conv, from Conv1D on
DEPTHWISE_LAYERS = (
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
)
RECURRENT_LAYERS = (
    keras.layers.RNN,
    keras.layers.Bidirectional,
    keras.layers.ConvLSTM1D,
    keras.layers.ConvLSTM2D,
    keras.layers.ConvLSTM3D,
)
ATTENTION_LAYERS = (
    keras.layers.MultiHeadAttention,
    keras.layers.Attention,
    keras.layers.AdditiveAttention,
    keras.layers.GroupQueryAttention,
)
ACTIVATION_LAYERS = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
    keras_act.ActivationLayer,
)
NORMALIZATION_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.UnitNormalization,
) + tuple(
    getattr(keras.layers, name) for name in ("SpectralNormalization", "RMSNormalization") if hasattr(keras.layers, name)
)  # newer Keras versions
EMBEDDING_LAYERS = (keras.layers.Embedding,)
MERGE_LAYERS = (
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
    keras.layers.Concatenate,
    keras.layers.Dot,
)
MAX_POOLING_LAYERS = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
)
AVERAGE_POOLING_LAYERS = (
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
)
# Layers that carry values through without a nonlinearity an activation would notice: dropout
# and noise, reshaping and padding, masking, identity, and Keras applications' LayerScale and
# StochasticDepth (a per-channel scale; dropping a residual branch).
TRANSPARENT_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.Masking,
    keras.layers.Identity,
)
TRANSPARENT_CLASS_NAMES = ("LayerScale", "StochasticDepth")
# Preprocessing layers that put the inputs on a scale (the rest resize, crop or augment).
SCALING_LAYERS = (keras.layers.Rescaling, keras.layers.Normalization)
# Layers that turn text, categories or token ids into numbers: what they read is not on a scale.
ENCODING_LAYERS = (
    keras.layers.TextVectorization,
    keras.layers.StringLookup,
    keras.layers.IntegerLookup,
    keras.layers.Hashing,
    keras.layers.CategoryEncoding,
    keras.layers.Discretization,
    keras.layers.Embedding,
)

# `keras.ops` node classes that compute an activation, by the activation's id.
OP_ACTIVATIONS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Silu": "swish",
    "Swish": "swish",
    "LogSigmoid": "log_sigmoid",
    "LeakyRelu": "leaky_relu",
    "HardSigmoid": "hard_sigmoid",
    "HardSilu": "hard_swish",
    "HardSwish": "hard_swish",
    "Elu": "elu",
    "Selu": "selu",
    "Gelu": "gelu",
    "Celu": "celu",
    "Glu": "glu",
    "HardTanh": "hard_tanh",
    "HardShrink": "hard_shrink",
    "SoftShrink": "soft_shrink",
    "TanhShrink": "tanh_shrink",
    "Squareplus": "squareplus",
    "SparsePlus": "sparse_plus",
    "SparseSigmoid": "sparse_sigmoid",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
    "Sparsemax": "sparsemax",
    "Threshold": "threshold",
    "Mish": "mish",
    "ReLU": "relu",  # `keras.activations.relu` on a symbolic tensor; its parameters decide (`relu_id`)
}
# `keras.ops` arithmetic: with one tensor and a constant it rescales or shifts (transparent to
# the role); with two tensors Add is a residual add and Multiply a gate.
OP_ARITHMETIC = ("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Negative")

# Nodes whose two tensor inputs multiply: what makes an activation feeding them a gate.
PRODUCTS = ("Multiply", "Dot", "Matmul", "Einsum")
# `keras.ops` nodes that move, cast or copy values without computing on them: transparent to a role
# (the cast to float32 before a GLU's activation in keras-hub's decoders, a reshape into heads).
OP_TRANSPARENT = (
    "Cast",
    "Reshape",
    "Transpose",
    "ExpandDims",
    "Squeeze",
    "StopGradient",
    "Split",
    "GetItem",
    "Slice",
    "Take",
)
# Ops a normalization computes (an RMSNorm written with `keras.ops`: x * rsqrt(mean(x ** 2) + eps)).
OP_NORMALIZING = ("Rsqrt", "Sqrt", "Moments", "Var", "Std")
# Ops that pick one token of a sequence (BERT's pooler reads ``x[:, 0, :]``).
POOLED_TOKEN_OPS = ("GetItem", "Slice", "Take")
# A pooler's activation: BERT's tanh on the first token (Devlin et al. 2019), a design element.
POOLER_ACTIVATIONS = ("tanh",)
# Ops that compute attention whole (Keras' fused attention).
OP_ATTENTION = ("DotProductAttention",)
# How far back (nodes) a feed-forward layer looks for its block's attention layer: through a
# LayerNormalization, a dropout, a cast and the residual add.
FEED_FORWARD_REACH = 5


class _Names(str, enum.Enum):
    """An enum of names that prints, formats and compares as its name (``Role.GATE == "gate"``)."""

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)


class Kind(_Names):
    """What a node of the graph is to the advisor (see `LayerInfo.kind`)."""

    WEIGHT = "weight"
    RECURRENT = "recurrent"
    ATTENTION = "attention"
    ACTIVATION = "activation"
    NORMALIZATION = "normalization"
    PREPROCESSING = "preprocessing"
    EMBEDDING = "embedding"
    TRANSPARENT = "transparent"
    MAX_POOLING = "max_pooling"
    AVERAGE_POOLING = "average_pooling"
    MERGE = "merge"
    OP = "op"
    OTHER = "other"
    UNKNOWN = "unknown"


class Role(_Names):
    """What an activation site does in the model (see the package docstring for each)."""

    HIDDEN = "hidden"
    FEED_FORWARD = "feed_forward"
    GLU_FEED_FORWARD = "glu_feed_forward"
    POOLER = "pooler"
    OUTPUT = "output"
    GATE = "gate"
    RECURRENT = "recurrent"
    BOTTLENECK = "bottleneck"
    LINEAR = "linear"
    FROZEN = "frozen"


ROLES = tuple(Role)
# The roles whose activation the advice's hidden activation replaces.
HIDDEN_ROLES = (Role.HIDDEN, Role.FEED_FORWARD, Role.GLU_FEED_FORWARD)


# The activation families, each name spelled once; every module reads them from here.
# Rectifiers: piecewise linear with a flat or shallow negative side, so a unit can die.
RECTIFIERS = ("relu", "relu6", "leaky_relu", "prelu")
# keras_act's learnable activations beyond PReLU and Swish: unbounded, non-saturating curves
# (ACON-C and PAU start as Swish and Leaky ReLU; Snake is the identity plus a ripple), so the
# ReLU family for initializers, unless a layer's start says otherwise (a Rational fitted to tanh:
# see `start_of`). A model that uses one chose it: it fits every family the ReLU family fits.
LEARNABLE = ("rational", "acon", "snake")
# Rectifiers and their smooth relatives: He-initialized, the family of every published
# normalized/residual CNN and transformer (ReLU, ReLU6, swish, hard-swish, GELU, ...).
RELU_FAMILY = (*RECTIFIERS, "elu", "celu", "swish", "hard_swish", "gelu", "mish", *LEARNABLE)
# Bounded activations whose derivative vanishes away from 0.
SATURATING = ("sigmoid", "tanh", "hard_sigmoid", "softsign", "hard_tanh")
# What a self-gated product ``x * g(x)`` computes, by its gate g.
SELF_GATED = {"sigmoid": "swish", "hard_sigmoid": "hard_swish", "relu6": "hard_swish"}


def start_of(activation: Any) -> str | None:
    """The fixed activation a learnable keras_act layer starts as: a Rational its `approx`, ACON
    Swish (its defaults are Swish); None for every other activation (Snake starts as none).

    The advisor reasons about initializers with it: a Rational fitted to tanh saturates like tanh.

    Examples:
        >>> import keras_act
        >>> start_of(keras_act.Rational("tanh")), start_of(keras_act.ACON()), start_of(keras_act.ReLU())
        ('tanh', 'swish', None)
    """
    if isinstance(activation, keras_act.Rational):
        return activation.approx
    if isinstance(activation, keras_act.ACON):
        return "swish"
    return None


def relu_id(layer: Any) -> str:
    """The id of a ReLU with Keras' parameters (the `ReLU` layer, or the op `keras.activations.relu`
    records): relu, leaky_relu, relu6, or an unreadable id for other settings.

    Examples:
        >>> import keras
        >>> relu_id(keras.layers.ReLU(6.0)), relu_id(keras.layers.ReLU(negative_slope=0.1))
        ('relu6', 'leaky_relu')
    """
    slope = float(layer.negative_slope or 0.0)
    max_value = None if layer.max_value is None else float(layer.max_value)
    threshold = float(layer.threshold or 0.0)
    if threshold == 0.0 and max_value is None:
        return "leaky_relu" if slope > 0 else "relu"
    if threshold == 0.0 and slope == 0.0 and max_value == 6.0:
        return "relu6"
    return (
        f"{UNREADABLE}ReLU(max_value={max_value:g}, negative_slope={slope:g}, threshold={threshold:g})"
        if max_value is not None
        else f"{UNREADABLE}ReLU(negative_slope={slope:g}, threshold={threshold:g})"
    )


def activation_id(activation: Any) -> str | None:
    """The id of an activation function, string or layer: keras_act's id, else Keras' name.

    Ids outside `KNOWN_ACTIVATIONS` (a user's own function) start with `UNREADABLE`.

    Examples:
        >>> import keras
        >>> activation_id(keras.activations.silu), activation_id(keras.layers.ReLU(6.0))
        ('swish', 'relu6')
        >>> activation_id(keras.activations.hard_silu), activation_id(lambda x: x * 2)
        ('hard_swish', 'unreadable:<lambda>')
        >>> activation_id(lambda x: keras.activations.gelu(x, approximate=True))  # keras-hub's gelu_approximate
        'gelu'
    """
    if activation is None:
        return None
    if isinstance(activation, keras_act.ActivationLayer):
        return activation.activation_id
    if isinstance(activation, keras.layers.Activation):
        return activation_id(activation.activation)
    if isinstance(activation, keras.layers.ReLU):
        return relu_id(activation)
    for cls, name in (
        (keras.layers.LeakyReLU, "leaky_relu"),
        (keras.layers.PReLU, "prelu"),
        (keras.layers.ELU, "elu"),
        (keras.layers.Softmax, "softmax"),
    ):
        if isinstance(activation, cls):
            return name
    if isinstance(activation, str):
        try:
            activation = keras.activations.get(activation)
        except ValueError:
            return f"{UNREADABLE}{activation}"
    name = getattr(activation, "__name__", None) or type(activation).__name__
    name = ACTIVATION_ALIASES.get(name, name)
    if name in KNOWN_ACTIVATIONS:
        return name
    # A function of a library's or the user's: read by the one op it computes, if it is one.
    return OP_ACTIVATIONS.get(single_op(activation) or "", f"{UNREADABLE}{name}")


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``.

    Examples:
        >>> snake_case("HeNormal")
        'he_normal'
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def initializer_name(initializer: Any) -> str | None:
    """Keras' string name of an initializer object (``GlorotUniform()`` -> ``"glorot_uniform"``).

    Examples:
        >>> import keras
        >>> initializer_name(keras.initializers.HeNormal())
        'he_normal'
    """
    if initializer is None:
        return None
    if isinstance(initializer, str):
        return snake_case(type(keras.initializers.get(initializer)).__name__)
    return snake_case(type(initializer).__name__)
