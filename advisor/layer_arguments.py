"""Which constructor argument of a custom layer sets the activations inside it.

The view reads a custom layer (a keras-hub `TransformerEncoder`, a user's block) through what its
`call` computes; changing an activation inside it means rebuilding the layer with another value
of the argument that sets it. That argument is a `get_config()` entry whose value is the
activation (``activation``, ``hidden_activation``, ``intermediate_activation``, ...: read by
value, not by name). An activation no entry holds is fixed in the layer's code (keras-hub's
backbones hard-code GELU in `FalconTransformerDecoder`, SwiGLU in Gemma's block): the advice names
it, and `apply()` says so instead of leaving it as it was without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from .inspection import UNREADABLE, ModelView, activation_id


@dataclass(frozen=True)
class FixedActivation:
    """An activation inside a custom layer that no constructor argument of the layer sets.

    Attributes:
        layer: the custom layer's name in the model.
        class_name: its class.
        activation: the activation's id.
        reason: why it cannot be changed.

    Example:
        >>> str(FixedActivation("block_0", "Block", "gelu", "fixed in its code (no argument of Block sets it)"))
        "gelu inside 'block_0' (Block): fixed in its code (no argument of Block sets it)"
    """

    layer: str
    class_name: str
    activation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.activation} inside {self.layer!r} ({self.class_name}): {self.reason}"


def _reads_as(value: Any) -> str | None:
    """The activation id a config value deserializes to, or None for a value that is no activation."""
    if not isinstance(value, (str, dict)) and not callable(value):
        return None
    try:
        activation = keras.activations.get(value)
    except Exception:  # noqa: BLE001  (a name, a dtype policy, an initializer: not an activation)
        return None
    name = activation_id(activation)
    return None if name is None or name.startswith(UNREADABLE) else name


def activation_arguments(config: dict[str, Any], activation: str) -> list[str]:
    """The keys of a layer's config whose value is `activation` (by id: ``"silu"`` is swish).

    Example:
        >>> activation_arguments({"units": 4, "activation": "gelu", "name": "block"}, "gelu")
        ['activation']
        >>> activation_arguments({"units": 4, "kernel_initializer": "glorot_uniform"}, "gelu")
        []
    """
    return [key for key, value in config.items() if key not in ("name", "dtype") and _reads_as(value) == activation]


def custom_layer_arguments(model_view: ModelView) -> tuple[dict[str, list[str]], list[FixedActivation]]:
    """For the hidden sites inside custom layers: per custom layer (by its name in the model),
    the config keys that set their activations, and the activations no key sets.

    Example:
        >>> import keras
        >>> from advisor.inspection import view
        >>> class Block(keras.layers.Layer):
        ...     def __init__(self, activation="gelu", **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.activation, self.dense = activation, keras.layers.Dense(4)
        ...     def call(self, x):
        ...         return keras.activations.get(self.activation)(self.dense(x))
        ...     def get_config(self):
        ...         return {**super().get_config(), "activation": self.activation}
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(Block(name="block")(inputs)))
        >>> custom_layer_arguments(view(model))
        ({'block': ['activation']}, [])
    """
    keys: dict[str, list[str]] = {}
    fixed: dict[tuple[str, str], FixedActivation] = {}
    for site in model_view.hidden_sites():
        if site.owner is None or not site.readable:
            continue
        root = site.owner.split("/")[0]
        layer = model_view.custom_layers[root]
        try:
            config = layer.get_config()
        except Exception as error:  # noqa: BLE001  (a library's get_config bug)
            reason = (f"{type(layer).__name__}.get_config() fails, so no argument can be changed "
                      f"({type(error).__name__}: {str(error)[:120]})")
            fixed.setdefault((root, site.activation), FixedActivation(root, type(layer).__name__, site.activation,
                                                                      reason))
            continue
        found = activation_arguments(config, site.activation)
        reason = f"fixed in its code (no argument of {type(layer).__name__} sets it)"
        if found:
            try:
                type(layer).from_config(config)
            except Exception as error:  # noqa: BLE001  (a library's config that does not rebuild its layer)
                reason = (f"its argument {found[0]!r} sets it, but {type(layer).__name__} cannot be rebuilt from "
                          f"its own get_config() ({type(error).__name__}: "
                          f"{str(error).strip().splitlines()[-1][:120]})")
                found = []
        if found:
            keys[root] = list(dict.fromkeys(keys.get(root, []) + found))
        else:
            fixed.setdefault((root, site.activation),
                             FixedActivation(root, type(layer).__name__, site.activation, reason))
    return keys, list(fixed.values())
