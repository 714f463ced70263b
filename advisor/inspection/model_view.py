"""The view: a model's nodes, activation sites with roles, heads and inputs, and the queries
every part of the advisor asks of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import keras

from .._keras_compat import output_structure, producer
from .layer import LayerInfo, is_residual_add, unwrap
from .roles import Site, back_through, build_sites
from .vocabulary import (
    CONV_LAYERS,
    DEPTHWISE_LAYERS,
    ENCODING_LAYERS,
    HIDDEN_ROLES,
    NORMALIZATION_LAYERS,
    SCALING_LAYERS,
    Kind,
    Role,
)
from .walk import Graph


@dataclass(frozen=True)
class ModelInput:
    """One model input, and what it meets on its way to the first weight layer of each path.

    Attributes:
        name: the input's name (its `keras.Input`'s), what dict inputs are keyed by.
        dtype: its dtype (``"float32"``, ``"int64"``, ``"string"``...).
        scaled_by: the scaling layers on its paths (`SCALING_LAYERS`, a normalization layer).
        encoded_by: the layers that encode it (`ENCODING_LAYERS`: text, lookups, embeddings).
        raw: whether some path reaches a weight layer with neither: numbers the user scales.

    Examples:
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

    Examples:
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

    Examples:
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
    custom_layers: dict[str, Any] = field(default_factory=dict, repr=False)
    _site_index: dict[str, Site] = field(default_factory=dict, repr=False)

    # --- walking -------------------------------------------------------------------------
    def next_layer(self, info: LayerInfo, skip: tuple[str, ...] = (Kind.TRANSPARENT,)) -> LayerInfo | None:
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
            if current is None or current.kind == Kind.WEIGHT:
                return current
            if current.kind not in (Kind.TRANSPARENT, Kind.NORMALIZATION):
                return None
        return None

    def site_of(self, name: str) -> Site | None:
        """The site a node (weight layer or activation node) belongs to."""
        return self._site_index.get(name)

    # --- structure -----------------------------------------------------------------------
    def of_kind(self, *kinds: str) -> list[LayerInfo]:
        """The nodes of the given kinds, in order."""
        if len(kinds) == 1:
            return self._nodes_by_kind.get(kinds[0], [])
        return [info for info in self.layers if info.kind in kinds]

    @cached_property
    def _nodes_by_kind(self) -> dict[str, list[LayerInfo]]:
        # The roles ask for the attention nodes once per site: index the (complete) node list once.
        nodes: dict[str, list[LayerInfo]] = {}
        for info in self.layers:
            nodes.setdefault(info.kind, []).append(info)
        return nodes

    @property
    def has_normalization(self) -> bool:
        """Whether a normalization layer (BatchNormalization, LayerNormalization, ...) is present."""
        return bool(self.of_kind(Kind.NORMALIZATION))

    @property
    def residual_adds(self) -> int:
        """How many adds of two tensors (`Add` layers, `keras.ops` adds) the graph holds."""
        return sum(1 for info in self.layers if is_residual_add(info))

    @property
    def has_conv(self) -> bool:
        """Whether a convolution layer is present."""
        return any(isinstance(unwrap(self.keras_layers[i.name]), CONV_LAYERS) for i in self.of_kind(Kind.WEIGHT))

    @property
    def has_depthwise(self) -> bool:
        """Whether a depthwise or separable convolution is present."""
        return any(isinstance(unwrap(self.keras_layers[i.name]), DEPTHWISE_LAYERS) for i in self.of_kind(Kind.WEIGHT))

    @property
    def has_recurrent(self) -> bool:
        """Whether a recurrent layer (LSTM, GRU, SimpleRNN, ...) is present."""
        return bool(self.of_kind(Kind.RECURRENT))

    @property
    def has_attention(self) -> bool:
        """Whether an attention layer is present."""
        return bool(self.of_kind(Kind.ATTENTION))

    @property
    def has_glu(self) -> bool:
        """Whether a feed-forward is a GLU, ``act(x W) * (x V)`` (SwiGLU, GeGLU, ReGLU)."""
        return any(site.role == Role.GLU_FEED_FORWARD for site in self.sites)

    @property
    def has_embedding(self) -> bool:
        """Whether an Embedding layer is present."""
        return bool(self.of_kind(Kind.EMBEDDING))

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

    @cached_property
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
        return _most_common(
            [
                self.by_name[site.weight].kernel_initializer
                for site in self.hidden_sites()
                if site.weight and self.by_name[site.weight].kernel_initializer
            ]
        )

    def feeds_residual_add(self, name: str) -> bool:
        """Whether a node's output reaches an add of two tensors through transparent nodes (a
        residual branch's last layer, or a zero-initialized ReZero/LayerScale branch)."""
        following = self.consumers.get(name, [])
        while following:
            if any(is_residual_add(node) for node in following):
                return True
            following = [
                c for node in following if node.kind == Kind.TRANSPARENT for c in self.consumers.get(node.name, [])
            ]
        return False

    def output_site_names(self) -> set[str]:
        """The names of every head's nodes (its activation node and weight layer)."""
        return {info.name for head in self.heads for info in (head.layer, head.weight) if info is not None}


def _most_common(names: list[str]) -> str | None:
    """The most frequent name, the first seen on a tie; None for none."""
    counts = Counter(names)
    return max(counts, key=counts.__getitem__) if counts else None


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
    return ModelInput(
        name, dtype, tuple(sorted(set(scaled), key=order.get)), tuple(sorted(set(encoded), key=order.get)), raw
    )


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
    structure = output_structure(model)
    if isinstance(structure, dict):
        key_of = {id(tensor): key for key, tensor in structure.items()}
        if all(id(tensor) in key_of for tensor in model.outputs):
            return [key_of[id(tensor)] for tensor in model.outputs]
    return list(getattr(model, "output_names", None) or [])


def view(model: keras.Model) -> ModelView:
    """Read a built Sequential or Functional model into a `ModelView` (the model is only read).

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> v = view(model)
        >>> [(s.activation, s.role) for s in v.sites], v.depth
        ([('relu', 'hidden'), ('sigmoid', 'output')], 1)
    """
    graph = Graph()
    exits = graph.walk(model, (), True)
    layers = graph.out
    v = ModelView(layers=layers, keras_layers=graph.keras_layers, heads=[], custom_layers=graph.custom_layers)
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
        layer = back_through(v, output, through_arithmetic=False)  # past Dropout, Flatten, ...
        weight = None
        if layer is not None:
            weight = (
                layer
                if layer.kind == Kind.WEIGHT
                else (v.feeding_weight_layer(layer) if layer.kind == Kind.ACTIVATION else None)
            )
        v.heads.append(
            Head(
                name,
                index,
                layer,
                weight,
                layer.activation if layer else None,
                layer.units if layer else None,
                _loss_for(compiled, (name, output), index),
            )
        )
    v.sites = build_sites(v)
    v.inputs = _read_inputs(model, v)
    for site in v.sites:
        v._site_index[site.name] = site
        if site.weight is not None:
            v._site_index.setdefault(site.weight, site)
    return v
