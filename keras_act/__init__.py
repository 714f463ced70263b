"""keras_act: activation functions as numerically careful, serializable Keras 3 layers.

`import keras_act` registers every layer with Keras' deserializer, so a saved model that uses
them loads with a plain `keras.models.load_model(path)` once `keras_act` is imported.

Example:
    >>> import keras, keras_act
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(8), keras_act.PReLU(),
    ...     keras.layers.Dense(8, activation=keras_act.get("swish")),
    ...     keras.layers.Dense(1), keras_act.Sigmoid(),
    ... ])
"""

from keras_act._ids import LAYER_CLASS_NAMES
from keras_act.commands import exports_on_first_use, running_as_the_command

__version__ = "0.1.0"

__all__ = ["ActivationLayer", *LAYER_CLASS_NAMES.values(), "Nearest", "get", "names", "nearest", "ops"]  # noqa: F405
# The module that defines each export (the layers: `keras_act.layers`); read on first use only in
# the `keras-act` command.
__getattr__ = exports_on_first_use(
    __name__,
    {
        **dict.fromkeys(__all__, "layers"),
        "get": "registry",
        "names": "registry",
        "nearest": "matching",
        "Nearest": "matching",
        "ops": None,  # the module itself
    },
)

if not running_as_the_command():
    # `import keras_act` registers every layer with Keras' deserializer, so a saved model that
    # uses them loads. The command imports them itself, once it needs TensorFlow.
    from keras_act import ops
    from keras_act.layers import *  # noqa: F403  (every layer class: keras_act.layers.__all__)
    from keras_act.matching import Nearest, nearest
    from keras_act.registry import get, names
