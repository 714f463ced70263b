"""Look layers up by string id, class name or config: `get` and `names`."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import layers
from keras_act._ids import LAYER_CLASS_NAMES

LAYER_CLASSES: dict[str, type[layers.ActivationLayer]] = {
    activation_id: getattr(layers, class_name) for activation_id, class_name in LAYER_CLASS_NAMES.items()
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in LAYER_CLASSES.values()}


def names() -> list[str]:
    """The string ids `get` accepts, in a stable order.

    Examples:
        >>> names()[:3]
        ['sigmoid', 'tanh', 'relu']
    """
    return list(LAYER_CLASS_NAMES)


def _unknown(identifier: Any) -> ValueError:
    return ValueError(
        f"Unknown activation {identifier!r}; valid ids are: {', '.join(names())} "
        "(class names such as 'LeakyReLU' work too)."
    )


def get(identifier: Any) -> keras.layers.Layer:
    """Return a new activation layer for `identifier`.

    Args:
        identifier: a string id (see `names()`), a class name (``"LeakyReLU"``), a serialized
            config dict (``{"class_name": "Swish", "config": {...}}``, as `get_config` and
            `keras.saving.serialize_keras_object` give), a layer instance (returned as is) or
            None (a `Linear` layer, as `keras.activations.get(None)` gives linear).

    Examples:
        >>> import keras
        >>> layer = get("swish")
        >>> type(layer).__name__
        'Swish'
        >>> dense = keras.layers.Dense(4, activation=get("leaky_relu"))
    """
    if identifier is None:
        return layers.Linear()
    if isinstance(identifier, keras.layers.Layer):
        return identifier
    if isinstance(identifier, str):
        cls = LAYER_CLASSES.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            raise _unknown(identifier)
        return cls()
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        cls = LAYER_CLASSES.get(class_name) or _BY_CLASS_NAME.get(class_name)
        if cls is None:
            raise _unknown(class_name)
        return cls.from_config(dict(identifier.get("config") or {}))
    raise TypeError(
        "keras_act.get expects a string id, a class name, a config dict, a layer or None, "
        f"received {identifier!r} of type {type(identifier).__name__}."
    )
