"""Roles: what each activation site does in the model, read from the graph around it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .layer import LayerInfo, is_product, is_rescaling_op, is_residual_add, unwrap
from .vocabulary import (
    DEPTHWISE_LAYERS,
    FEED_FORWARD_REACH,
    HIDDEN_ROLES,
    POOLED_TOKEN_OPS,
    POOLER_ACTIVATIONS,
    SELF_GATED,
    UNREADABLE,
    Kind,
    Role,
)

if TYPE_CHECKING:
    from .model_view import ModelView


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
        owner: for a site inside a custom layer, that layer's name (`LayerInfo.owner`), else None.

    Examples:
        >>> import keras
        >>> from keras_act.advisor.inspection import view
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="d"),
        ...     keras.layers.BatchNormalization(), keras.layers.ReLU(name="r"), keras.layers.Dense(1)])
        >>> view(model).sites[0]
        Site(name='r', weight='d', activation='relu', role='hidden', head=None, composite=False, start=None, owner=None)
    """

    name: str
    weight: str | None
    activation: str
    role: Role
    head: str | None = None
    composite: bool = False
    start: str | None = None
    owner: str | None = None

    @property
    def readable(self) -> bool:
        """Whether the advisor can name this activation."""
        return not self.activation.startswith(UNREADABLE)


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


def _gated_factors(v: ModelView, info: LayerInfo) -> list[str] | None:
    """The other factors of the product `info`'s value gates, or None when it gates none: it
    reaches one input of a product of two tensors (through constant arithmetic and transparent
    nodes) and the other input does not derive from it. The features a squeeze-excitation block
    rescales also feed the gate's branch, so they are not a gate; the sigmoid at the end of that
    branch is."""
    current = [info]
    for _ in range(8):  # a gate's product is a few nodes away at most (hard sigmoid: 2)
        following = []
        for node in current:
            for consumer in v.consumers.get(node.name, []):
                if is_product(consumer):
                    others = [p for p in consumer.inbound if p != node.name]
                    if others and not any(_reaches_back(v, other, info.name) for other in others):
                        return others
                elif consumer.kind == Kind.TRANSPARENT or is_rescaling_op(consumer):
                    following.append(consumer)
        if not following:
            return None
        current = following
    return None


def _is_glu(v: ModelView, weight: LayerInfo | None, factors: list[str]) -> bool:
    """Whether a gate is a GLU feed-forward's, ``act(x W) * (x V)`` (Shazeer 2020): the other
    factor is a linear projection of the same input as the gate's own weight layer (or the other
    half of the same projection, split)."""
    if weight is None:
        return False
    for factor in factors:
        other = back_through(v, factor)
        if other is None or other.kind != Kind.WEIGHT or other.activation != "linear":
            return False
        if other.name != weight.name and set(other.inbound) != set(weight.inbound):
            return False
    return bool(factors)


def _gate_role(v: ModelView, node: LayerInfo, weight: LayerInfo | None) -> Role | None:
    """GLU feed-forward or gate for an activation whose value multiplies another tensor, else None."""
    factors = _gated_factors(v, node)
    if factors is None:
        return None
    return Role.GLU_FEED_FORWARD if _is_glu(v, weight, factors) else Role.GATE


def _reads_pooled_token(v: ModelView, weight: LayerInfo) -> bool:
    """Whether a weight layer reads one token of a sequence (``x[:, 0, :]``): a pooler."""
    current: LayerInfo | None = weight
    for _ in range(3):
        if current is None or len(current.inbound) != 1:
            return False
        current = v.by_name.get(current.inbound[0])
        if current is not None and current.class_name in POOLED_TOKEN_OPS:
            return True
        if current is None or current.kind != Kind.TRANSPARENT:
            return False
    return False


def _linear_role(v: ModelView, info: LayerInfo) -> Role:
    """Why a hidden weight layer with no activation after it is linear: by design, or not."""
    following = v.consumers.get(info.name, [])
    while len(following) == 1 and following[0].kind == Kind.TRANSPARENT:
        if following[0].class_name == "Reshape":
            return Role.BOTTLENECK  # "project and reshape" into a conv stack (Radford et al. 2015, DCGAN)
        following = v.consumers.get(following[0].name, [])
    if len(following) == 1 and following[0].kind == Kind.NORMALIZATION:
        # A projection into a normalization layer: MobileNet's linear bottlenecks (conv -> BN),
        # ConvNeXt's depthwise conv -> LayerNormalization (not a linear map at all).
        return Role.BOTTLENECK
    if len(following) != 1:
        return Role.BOTTLENECK  # it forks: a residual branch or several consumers
    nxt = following[0]
    if nxt.kind == Kind.ACTIVATION and nxt.activation == "linear":
        return _linear_role(v, nxt)
    if nxt.kind != Kind.WEIGHT:
        return Role.BOTTLENECK
    layer, nxt_layer = v.keras_layers[info.name], v.keras_layers[nxt.name]
    if isinstance(unwrap(layer), DEPTHWISE_LAYERS) or isinstance(unwrap(nxt_layer), DEPTHWISE_LAYERS):
        return Role.BOTTLENECK  # depthwise then pointwise: a factorized conv, one map by design
    fan_in = _fan_in(layer)
    if info.units and nxt.units and fan_in and info.units < min(fan_in, nxt.units):
        return Role.BOTTLENECK  # narrower than both neighbours: a low-rank code by design
    return Role.LINEAR


def _fan_in(layer: Any) -> int | None:
    kernel = getattr(unwrap(layer), "kernel", None)
    if kernel is None:
        return None
    return int(math.prod(tuple(kernel.shape)[:-1])) or None


def back_through(v: ModelView, name: str, through_arithmetic: bool = True) -> LayerInfo | None:
    """Walk back from a node through transparent nodes (and constant arithmetic) to the first
    node that computes something."""
    info = v.by_name.get(name)
    while (
        info is not None
        and len(info.inbound) == 1
        and (info.kind == Kind.TRANSPARENT or through_arithmetic and is_rescaling_op(info))
    ):
        info = v.by_name.get(info.inbound[0])
    return info


def _composites(v: ModelView) -> dict[str, Site]:
    """Self-gated products ``x * g(x)``, by the name of the weight layer that makes x."""
    found: dict[str, Site] = {}
    for info in v.layers:
        if not is_product(info) or len(info.inbound) != 2:
            continue
        for source, gate in (info.inbound, info.inbound[::-1]):
            activation = back_through(v, gate)
            if activation is None or activation.kind != Kind.ACTIVATION or activation.activation not in SELF_GATED:
                continue
            if len(activation.inbound) != 1 or back_through(v, activation.inbound[0]) is not back_through(v, source):
                continue
            weight = (
                v.feeding_weight_layer(v.by_name[source])
                if v.by_name[source].kind != Kind.WEIGHT
                else v.by_name[source]
            )
            key = weight.name if weight is not None else info.name
            found[key] = Site(
                info.name,
                weight.name if weight else None,
                SELF_GATED[activation.activation],
                Role.HIDDEN,
                composite=True,
                owner=info.owner,
            )
            break
    return found


def _after_attention(v: ModelView, weight: str | None) -> bool:
    """Whether a weight layer reads an attention layer's output through normalization,
    dropout, reshaping and residual adds (a transformer block's feed-forward network)."""
    if weight is None:
        return False
    frontier = list(v.by_name[weight].inbound)
    for _ in range(FEED_FORWARD_REACH):
        nodes = [v.by_name[name] for name in frontier if name in v.by_name]
        if any(node.kind == Kind.ATTENTION for node in nodes):
            return True
        frontier = [
            parent
            for node in nodes
            if node.kind in (Kind.NORMALIZATION, Kind.TRANSPARENT) or is_residual_add(node)
            for parent in node.inbound
        ]
    return False


def _in_attention_block(v: ModelView, info: LayerInfo) -> bool:
    """Whether a node sits inside a custom layer that also computes attention (a transformer
    block read through its `call`): its feed-forward, whatever the wiring (GPT-NeoX's parallel
    residual reads the block's input, not the attention's output)."""
    owners = []
    name = info.owner
    while name:
        owners.append(name + "/")
        name = name.rpartition("/")[0]
    return any(node.name.startswith(owner) for owner in owners for node in v.of_kind(Kind.ATTENTION))


def _frozen_unless_trained(v: ModelView, role: Role, name: str, weight: LayerInfo | str | None) -> Role:
    """`role`, or ``"frozen"`` for a hidden role whose activation or weight layer is frozen."""
    weight_info = v.by_name.get(weight) if isinstance(weight, str) else weight
    frozen = not v.by_name[name].trainable or (weight_info is not None and not weight_info.trainable)
    return Role.FROZEN if role in HIDDEN_ROLES and frozen else role


def _weighted_role(v: ModelView, info: LayerInfo, name: str, activation: str) -> Role:
    """The role of a hidden weight layer's activation (applied at node `name`)."""
    gate = _gate_role(v, v.by_name[name], info)
    if gate is not None:
        return gate
    if activation in POOLER_ACTIVATIONS and _reads_pooled_token(v, info):
        return Role.POOLER
    if v.has_attention and (_after_attention(v, info.name) or _in_attention_block(v, info)):
        return Role.FEED_FORWARD
    return Role.HIDDEN


def build_sites(v: ModelView) -> list[Site]:
    """Every activation site of a view whose nodes and heads are read, with its role."""
    head_of: dict[str, str] = {}
    for head in v.heads:
        for info in (head.layer, head.weight):
            if info is not None:
                head_of[info.name] = head.name
    sites: list[Site] = []
    claimed: set[str] = set()
    composites = _composites(v)
    sites += [site for key, site in composites.items() if key not in v.by_name or v.by_name[key].kind != Kind.WEIGHT]
    for info in v.layers:
        if info.kind == Kind.RECURRENT:
            sites.append(
                Site(
                    info.name,
                    info.name,
                    info.activation or "linear",
                    Role.RECURRENT,
                    start=info.start,
                    owner=info.owner,
                )
            )
            continue
        if info.kind != Kind.WEIGHT:
            continue
        if info.name in composites and info.activation in (None, "linear"):
            sites.append(composites[info.name])
            continue
        name, activation, start, owner = info.name, info.activation or "linear", info.start, info.owner
        if activation == "linear":
            following = v.next_layer(info, skip=(Kind.TRANSPARENT, Kind.NORMALIZATION))
            if following is not None and following.kind == Kind.ACTIVATION and following.activation != "linear":
                name, activation, start, owner = following.name, following.activation, following.start, following.owner
        claimed.add(name)
        head = head_of.get(name) or head_of.get(info.name)
        if head is not None:
            role = Role.OUTPUT
        elif activation == "linear":
            role = _linear_role(v, info)
        else:
            role = _frozen_unless_trained(v, _weighted_role(v, info, name, activation), name, info.name)
        sites.append(Site(name, info.name, activation, role, head, start=start, owner=owner))
    for info in v.layers:
        if info.kind != Kind.ACTIVATION or info.name in claimed or info.activation == "linear":
            continue
        head = head_of.get(info.name)
        weight = v.feeding_weight_layer(info)
        role = Role.OUTPUT if head else _gate_role(v, info, weight) or Role.HIDDEN
        role = _frozen_unless_trained(v, role, info.name, weight)
        sites.append(
            Site(
                info.name,
                weight.name if weight and role == Role.GLU_FEED_FORWARD else None,
                info.activation,
                role,
                head,
                start=info.start,
                owner=info.owner,
            )
        )
    order = {info.name: index for index, info in enumerate(v.layers)}
    return sorted(sites, key=lambda site: order[site.name])
