"""apply(): a new model with the advice carried out; the original untouched; the new one trains."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

import keras_act
from keras_act.advisor import Advice, advise, apply
from keras_act.advisor._keras_compat import producer
from keras_act.advisor.inspection import inspect_model, view

# What apply() does with any advice; the rules of thumb give it here.
pytestmark = pytest.mark.usefixtures("rules_of_thumb")

L = keras.layers
RNG = np.random.default_rng(0)


def activations(model: keras.Model) -> dict[str, str | None]:
    return {info.name: info.activation for info in inspect_model(model)}


def initializers(model: keras.Model) -> dict[str, str | None]:
    return {info.name: info.kernel_initializer for info in inspect_model(model)}


def snapshot(model: keras.Model) -> dict[str, np.ndarray]:
    return {w.path: np.array(w) for w in model.weights}


def assert_same_graph(old: keras.Model, new: keras.Model) -> None:
    assert [layer.name for layer in old.layers] == [layer.name for layer in new.layers]
    assert [tuple(t.shape) for t in old.outputs] == [tuple(t.shape) for t in new.outputs]
    old_edges = {i.name: i.inbound for i in inspect_model(old)}
    assert old_edges == {i.name: i.inbound for i in inspect_model(new)}


def assert_untouched(model: keras.Model, before_weights, before_activations, before_inits) -> None:
    after = snapshot(model)
    assert after.keys() == before_weights.keys()
    for path, old in before_weights.items():
        np.testing.assert_array_equal(old, after[path])
    assert activations(model) == before_activations
    assert initializers(model) == before_inits


def apply_checked(model: keras.Model, advice: Advice | None = None, **kwargs) -> keras.Model:
    """apply() and check the original model did not change at all."""
    weights, acts, inits = snapshot(model), activations(model), initializers(model)
    new = apply(model, advice or advise(model), **kwargs)
    assert new is not model
    assert_untouched(model, weights, acts, inits)
    assert_same_graph(model, new)
    assert not {id(w) for w in new.weights} & {id(w) for w in model.weights}
    return new


def assert_trains(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
    before = snapshot(model)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    after = snapshot(model)
    trainable = {w.path for w in model.trainable_weights}
    unmoved = [
        path for path, old in before.items() if path in trainable and old.size > 1 and np.allclose(old, after[path])
    ]
    assert not unmoved


def test_deep_sigmoid_sequential_gets_the_advice_and_trains() -> None:
    hidden = [L.Dense(16, activation="sigmoid") for _ in range(8)]
    model = keras.Sequential([keras.Input((6,)), *hidden, L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.005), "binary_crossentropy", metrics=["accuracy"])
    advice = advise(model)
    new = apply_checked(model, advice)
    acts, inits = activations(new), initializers(new)
    for layer in new.layers[:-1]:
        assert acts[layer.name] == advice.hidden_activation == "selu"
        assert inits[layer.name] == "lecun_normal"
    assert acts[new.layers[-1].name] == "sigmoid" and inits[new.layers[-1].name] == "glorot_uniform"
    assert new.optimizer is not model.optimizer
    assert float(new.optimizer.learning_rate) == pytest.approx(0.005)
    assert new.loss == "binary_crossentropy"
    x = RNG.normal(size=(128, 6)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    assert_trains(new, x, y)
    assert "accuracy" in new.get_metrics_result()
    # the original's fresh-state weights are still its own: it was never trained
    assert not model.optimizer.iterations.numpy()


def test_residual_functional_model_keeps_its_graph() -> None:
    inputs = keras.Input((10,), name="features")
    a = L.Dense(16, activation="tanh", kernel_initializer="he_normal")(inputs)
    b = L.Dense(16, activation="tanh")(a)
    skip = L.Add()([a, b])
    branch = L.Dense(8, activation="relu")(skip)
    other = L.Dense(8, activation="relu")(skip)
    merged = L.Concatenate()([branch, other])
    outputs = L.Dense(3, activation="softmax")(merged)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    new = apply_checked(model)
    hidden = [layer for layer in new.layers if isinstance(layer, L.Dense)][:-1]
    assert {activations(new)[layer.name] for layer in hidden} == {"relu"}
    x = RNG.normal(size=(96, 10)).astype("float32")
    assert new.get_layer("features").name == "features"
    assert_trains(new, x, RNG.integers(0, 3, size=96))


def test_conv_net_with_activation_layers() -> None:
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(4, 3, kernel_initializer="glorot_uniform"),
            L.BatchNormalization(),
            L.ReLU(),
            L.MaxPooling2D(),
            L.Conv2D(4, 3, padding="same", activation="tanh"),
            L.Flatten(),
            L.Dense(10),
            L.Activation("softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    advice = dataclasses.replace(advise(model), hidden_activation="swish", hidden_initializer="he_normal")
    new = apply_checked(model, advice)
    acts, inits = activations(new), initializers(new)
    conv, _, relu_site, _, conv2, _, dense, softmax = new.layers
    assert acts[conv.name] == "linear" and inits[conv.name] == "he_normal"
    assert isinstance(relu_site, keras_act.Swish) and relu_site.name == model.layers[2].name
    assert acts[conv2.name] == "swish"
    assert acts[dense.name] == "linear" and acts[softmax.name] == "softmax"
    x = RNG.random((64, 8, 8, 1)).astype("float32")
    assert_trains(new, x, RNG.integers(0, 10, size=64))


def test_lstm_cells_keep_their_activations() -> None:
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            L.LSTM(8, return_sequences=True),
            L.Bidirectional(L.GRU(4)),
            L.Dense(8, activation="sigmoid"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    new = apply_checked(model)
    lstm, bidirectional, dense, _ = new.layers
    assert lstm.cell.activation.__name__ == "tanh" and lstm.cell.recurrent_activation.__name__ == "sigmoid"
    assert bidirectional.forward_layer.cell.activation.__name__ == "tanh"
    assert type(lstm.cell.kernel_initializer).__name__ == "GlorotUniform"
    assert activations(new)[dense.name] == advise(model).hidden_activation
    x = RNG.normal(size=(64, 5, 3)).astype("float32")
    assert_trains(new, x, (x[:, 0, :1] > 0).astype("float32"))


def test_keras_act_layers_are_replaced_and_parameters_train() -> None:
    model = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(16),
            keras_act.Tanh(),
            L.Dense(16, activation=keras_act.get("prelu")),
            L.Dense(1),
            keras_act.Sigmoid(),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    new = apply_checked(model, dataclasses.replace(advise(model), hidden_activation="swish"))
    assert isinstance(new.layers[1], keras_act.Swish)
    assert isinstance(new.layers[2].activation, keras_act.Swish)
    assert isinstance(new.layers[4], keras_act.Sigmoid)
    x = RNG.normal(size=(64, 6)).astype("float32")
    new.fit(x, (x[:, :1] > 0).astype("float32"), epochs=2, verbose=0)
    beta = np.array(new.layers[1].beta)
    assert not np.allclose(beta, 1.0)


@pytest.mark.parametrize(
    "learnable, cls", [("rational", keras_act.Rational), ("acon", keras_act.ACON), ("snake", keras_act.Snake)]
)
def test_apply_puts_in_a_learnable_activation_that_trains(learnable, cls) -> None:
    model = keras.Sequential([keras.Input((6,)), L.Dense(16, activation="relu"), L.Dense(16), L.ReLU(), L.Dense(1)])
    model.compile("adam", "mse")
    new = apply_checked(model, dataclasses.replace(advise(model), hidden_activation=learnable))
    learned = [layer for layer in (new.layers[0].activation, new.layers[2]) if isinstance(layer, cls)]
    assert len(learned) == 2 and learned[0] is not learned[1]
    assert advise(new).hidden_activation in (learnable, advise(model).hidden_activation)
    x = RNG.normal(size=(64, 6)).astype("float32")
    before = [np.array(w) for layer in learned for w in layer.trainable_weights]
    new.fit(x, x[:, :1] ** 2, epochs=2, verbose=0)
    after = [np.array(w) for layer in learned for w in layer.trainable_weights]
    assert all(not np.allclose(b, a) for b, a in zip(before, after))


def test_activation_kwargs_configure_the_hidden_keras_act_layers_only() -> None:
    model = keras.Sequential(
        [keras.Input((6,)), L.Dense(16, activation="relu"), L.Dense(16), L.ReLU(), L.Dense(1, activation="sigmoid")]
    )
    model.compile("adam", "binary_crossentropy")
    advice = dataclasses.replace(advise(model), hidden_activation="rational")
    new = apply_checked(model, advice, activation_kwargs={"approx": "elu", "shared_axes": [1]})
    assert [layer.approx for layer in (new.layers[0].activation, new.layers[2])] == ["elu", "elu"]
    assert new.layers[2].shared_axes == (1,) and not isinstance(new.layers[-1].activation, keras_act.Rational)
    with pytest.raises(
        ValueError, match="`activation_kwargs` .* do not make a 'rational' layer: Rational: argument `approx`"
    ):
        apply(model, advice, activation_kwargs={"approx": "softmax"})
    with pytest.raises(ValueError, match="advice.hidden_activation 'hard_swish' is not a keras_act id"):
        apply(model, dataclasses.replace(advice, hidden_activation="hard_swish"), activation_kwargs={"a": 1})
    with pytest.raises(TypeError, match="`activation_kwargs` must be a dict"):
        apply(model, advice, activation_kwargs=[("approx", "elu")])


def test_softmax_output_with_logits_loss_gets_the_loss_fixed() -> None:
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", loss)
    new = apply_checked(model)
    assert new.loss.get_config()["from_logits"] is False
    assert model.loss is loss and loss.get_config()["from_logits"] is True
    assert not [f for f in advise(new).findings if f.severity == "error"]


def test_logits_output_stays_linear() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    new = apply_checked(model)
    assert activations(new)[new.layers[-1].name] == "linear"
    assert new.loss.get_config()["from_logits"] is True


def test_linear_classifier_output_gets_its_squashing_activation() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    model.compile("adam", "binary_crossentropy")
    assert advise(model).errors
    new = apply_checked(model)
    assert activations(new)[new.layers[-1].name] == "sigmoid"
    assert not advise(new).errors


def test_double_activation_and_linear_hidden_are_resolved() -> None:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            L.Dense(8),
            L.Dense(8, activation="relu"),
            L.Activation("relu"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    codes = {f.code for f in advise(model).findings}
    assert {"double-activation", "linear-hidden"} <= codes
    new = apply_checked(model)
    acts = activations(new)
    assert [acts[layer.name] for layer in new.layers] == ["relu", "linear", "relu", "sigmoid"]
    assert not {"double-activation", "linear-hidden"} & {f.code for f in advise(new).findings}


def test_gates_keep_their_sigmoid() -> None:
    inputs = keras.Input((8, 8, 4))
    features = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    squeeze = L.GlobalAveragePooling2D()(features)
    excite = L.Dense(2, activation="relu")(squeeze)
    gate = L.Dense(4, activation="sigmoid")(excite)
    scaled = L.Multiply()([features, L.Reshape((1, 1, 4))(gate)])
    outputs = L.Dense(2, activation="softmax")(L.Flatten()(scaled))
    model = keras.Model(inputs, outputs)
    new = apply_checked(model, dataclasses.replace(advise(model, task="multiclass"), hidden_activation="gelu"))
    acts, inits = activations(new), initializers(new)
    gate_layer = new.get_layer(producer(gate).name)
    assert acts[gate_layer.name] == "sigmoid" and inits[gate_layer.name] == "glorot_uniform"
    assert acts[new.get_layer(producer(excite).name).name] == "gelu"


def test_second_output_is_kept() -> None:
    inputs = keras.Input((4,))
    hidden = L.Dense(8, activation="sigmoid")(inputs)
    first = L.Dense(1, activation="sigmoid", name="first")(hidden)
    second = L.Dense(3, activation="softmax", name="second")(hidden)
    model = keras.Model(inputs, [first, second])
    new = apply_checked(model)
    assert activations(new)["second"] == "softmax" and activations(new)["first"] == "sigmoid"
    assert activations(new)[new.layers[1].name] == "relu"


def test_uncompiled_model_stays_uncompiled_and_round_trips(tmp_path) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="tanh"), L.Dense(2, activation="softmax")])
    new = apply(model, dataclasses.replace(advise(model), hidden_activation="prelu"))
    assert not new.compiled
    x = RNG.normal(size=(5, 4)).astype("float32")
    expected = np.array(new(x))
    new.save(tmp_path / "new.keras")
    np.testing.assert_allclose(np.array(keras.models.load_model(tmp_path / "new.keras")(x)), expected)


def test_bad_arguments_raise_clear_errors() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(2, activation="softmax")])
    advice = advise(model)
    with pytest.raises(TypeError, match="keras.Model.*list"):
        apply([model], advice)
    with pytest.raises(TypeError, match="advice.*dict"):
        apply(model, advice.to_dict())
    with pytest.raises(ValueError, match="hidden_activation.*'rectifier'"):
        apply(model, dataclasses.replace(advice, hidden_activation="rectifier"))
    with pytest.raises(ValueError, match="output_initializer.*'he_wrong'"):
        apply(model, dataclasses.replace(advice, output_initializer="he_wrong"))

    class Subclassed(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    subclassed = Subclassed()
    subclassed(np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="Sequential and Functional"):
        apply(subclassed, advice)


def test_a_layer_that_cannot_be_rebuilt_gets_one_clear_error() -> None:
    class Scale(L.Layer):
        def __init__(self, function):  # a Python function: Keras cannot record it in a config
            super().__init__()
            self.function = function

        def call(self, x):
            return self.function(x)

    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), Scale(lambda x: 2 * x), L.Dense(1)])
    with pytest.raises(ValueError, match=r"apply: layer 'scale.*' \(Scale, from .*\) cannot be rebuilt.*get_config"):
        apply(model, advise(model))


class _ReadsAMissingAttribute(L.Layer):
    """A library layer whose get_config reads an attribute it never set (keras-hub's Llama decoder
    once did: `rope_scaling_factor`)."""

    def __init__(self, width, **kwargs):  # stored under another name: its attributes cannot rebuild it
        super().__init__(**kwargs)
        self._width = width
        self.dense = L.Dense(width, activation="relu")

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "factor": self.rope_scaling_factor}


class _RefusesItsConfig(_ReadsAMissingAttribute):
    """A library layer whose from_config fails on its own config (keras-hub's ViT embedding)."""

    def get_config(self):
        return {**super(_ReadsAMissingAttribute, self).get_config(), "width": self._width}

    @classmethod
    def from_config(cls, config):
        raise ValueError("could not be deserialized properly.\nSee the library's issue tracker.")


@pytest.mark.parametrize(
    "layer_class, error",
    [(_ReadsAMissingAttribute, "AttributeError: "), (_RefusesItsConfig, "ValueError: See the library's")],
)
def test_whatever_a_libraries_config_raises_is_one_clear_error(layer_class, error) -> None:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(layer_class(8, name="block")(inputs)))
    with pytest.raises(ValueError) as raised:
        apply(model, advise(model, task="binary"))
    message = str(raised.value)
    assert message.startswith(f"apply: layer 'block' ({layer_class.__name__}, from {__name__}) cannot be rebuilt")
    assert error in message and "\n" not in message


def test_lambda_layers_are_rebuilt() -> None:
    model = keras.Sequential(
        [keras.Input((4,)), L.Dense(8, activation="sigmoid"), L.Lambda(lambda t: 2 * t), L.Dense(1)]
    )
    new = apply_checked(model)
    x = RNG.normal(size=(3, 4)).astype("float32")
    hidden = keras.Model(new.inputs[0], new.layers[1].output)
    np.testing.assert_allclose(
        np.asarray(hidden(x)), 2 * np.asarray(keras.Model(new.inputs[0], new.layers[0].output)(x)), rtol=1e-6
    )


class _StoresItsArguments(L.Layer):
    """A library layer whose get_config is broken but which keeps each argument as an attribute
    of the same name (Keras' convention), as keras-hub's Llama decoder does."""

    def __init__(self, width, activation="gelu", **kwargs):
        super().__init__(**kwargs)
        self.width, self.activation = width, keras.activations.get(activation)
        self.dense = L.Dense(width)

    def call(self, x):
        return self.activation(self.dense(x))

    def get_config(self):
        return {**super().get_config(), "factor": self.rope_scaling_factor}


def test_a_layer_whose_config_is_broken_is_rebuilt_from_its_attributes_when_that_computes_the_same() -> None:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(_StoresItsArguments(8, name="block")(inputs)))
    advice = dataclasses.replace(advise(model, task="binary"), hidden_activation="relu", kept=False)
    with pytest.warns(UserWarning, match="'block' .* is rebuilt from its attributes"):
        new = apply(model, advice)
    assert [s.activation for s in view(new).hidden_sites()] == ["relu"]  # through its `activation` argument
    new.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    w = [np.asarray(v, "float64") for v in model.get_weights()]
    expected = 1 / (1 + np.exp(-(np.maximum(x @ w[0] + w[1], 0) @ w[2] + w[3])))
    np.testing.assert_allclose(new.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)
