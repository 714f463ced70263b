"""The advisor on published architectures and keras.io-style models: no crash, no false error or
warning, no senseless pick, and an `apply()` that keeps every design intact.

The representative subset runs by default; the sweep over every `keras.applications` model is
marked slow.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from keras_act.advisor import advise, apply
from keras_act.advisor._keras_compat import producer
from keras_act.advisor.inspection import view
from tests.advisor import zoo


def _gates(model: keras.Model) -> list[tuple[str, str]]:
    return [(site.name, site.activation) for site in view(model).sites if site.role == "gate"]


def _heads(model: keras.Model) -> list[tuple[str, str | None]]:
    return [(head.name, head.activation) for head in view(model).heads]


def _input_names(model: keras.Model) -> list[str]:
    return [producer(tensor).name for tensor in model.inputs]


def problems(model: keras.Model) -> list[str]:
    """Everything the advisor gets wrong on `model` (empty: nothing)."""
    found = []
    config = model.get_config()
    advice = advise(model)
    for finding in advice.findings:
        if finding.severity in ("error", "warning"):
            found.append(f"false {finding.severity}: {finding}")
    model_view = view(model)
    own = model_view.own_hidden_activation
    if own is not None and own not in advice.candidates:
        found.append(f"own activation {own} not among candidates {advice.candidates}")
    if (model_view.has_normalization or model_view.residual_adds) and (
        advice.hidden_activation == "selu" or "selu" in advice.candidates
    ):
        found.append(f"SELU with normalization/residual adds: {advice.hidden_activation}, {advice.candidates}")
    new = apply(model, advice)
    if model.get_config() != config:
        found.append("apply() modified the user's model")
    if len(new.layers) != len(model.layers) or len(view(new).layers) != len(model_view.layers):
        found.append(f"layer count {len(model.layers)} -> {len(new.layers)}")
    if new.count_params() != model.count_params():
        found.append(f"parameter count {model.count_params()} -> {new.count_params()}")
    if _input_names(new) != _input_names(model):
        found.append("input names changed")
    if [h.name for h in view(new).heads] != [h.name for h in model_view.heads]:
        found.append("output names changed")
    if [tuple(t.shape) for t in new.outputs] != [tuple(t.shape) for t in model.outputs]:
        found.append("output shapes changed")
    if [a for _, a in _gates(new)] != [a for _, a in _gates(model)]:
        found.append(f"gates changed: {_gates(model)} -> {_gates(new)}")
    if [a for _, a in _heads(new)] != [
        h.output_activation
        if h.output_activation != h.current_activation and h.current_activation != "linear"
        else h.current_activation
        for h in advice.heads
    ]:
        found.append(f"heads: {_heads(model)} -> {_heads(new)} under advice {advice.heads}")
    # Kept: every hidden site stays as it was (the heads follow their own advice, checked above).
    if advice.kept and (
        [s.activation for s in view(new).sites if s.role != "output"]
        != [s.activation for s in model_view.sites if s.role != "output"]
    ):
        found.append("the advice kept the activation but apply() changed sites")
    return found


@pytest.mark.parametrize("name", zoo.REPRESENTATIVE + tuple(zoo.KERAS_IO))
def test_representative_architectures(name: str) -> None:
    assert problems(zoo.build(name)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(zoo.APPLICATION_INPUTS) - set(zoo.REPRESENTATIVE)))
def test_every_keras_application(name: str) -> None:
    model = zoo.build(name)
    assert problems(model) == []
    keras.backend.clear_session()  # with its garbage collection: these models hold up to 2 GB


@pytest.mark.parametrize(
    "name, family, hidden",
    [
        ("ResNet50", "normalized-residual", "relu"),
        ("MobileNetV2", "normalized-residual", "relu6"),
        ("MobileNetV3Small", "normalized-residual", "hard_swish"),
        ("EfficientNetB0", "normalized-residual", "swish"),
        ("ConvNeXtTiny", "normalized-residual", "gelu"),
        ("transformer_classifier", "attention", "relu"),
        ("vit_classifier", "attention", "gelu"),
    ],
)
def test_published_designs_keep_their_authors_activation(name: str, family: str, hidden: str) -> None:
    advice = advise(zoo.build(name))
    assert (advice.family, advice.hidden_activation, advice.kept) == (family, hidden, True)
    assert "kept" in str(advice) and "evidence" in advice.reasons["hidden_activation"]
    assert {"gelu", "relu"} <= set(advice.candidates) and "selu" not in advice.candidates


def test_mobilenetv3_hard_sigmoid_gates_stay_in_zero_one() -> None:
    model = zoo.build("MobileNetV3Small")
    gates = _gates(model)
    assert len(gates) >= 9 and {a for _, a in gates} <= {"relu6", "hard_sigmoid", "sigmoid"}
    advice = advise(model)
    new = apply(model, dataclasses.replace(advice, hidden_activation="selu", hidden_initializer="lecun_normal"))
    assert _gates(new) == [(name, a) for name, a in gates]
    # every ReLU6 left is a gate: the hidden ReLUs became SELU, the gates did not
    relus = [s for s in view(new).sites if s.activation == "relu6"]
    assert relus and all(s.role == "gate" for s in relus)


def test_dict_losses_pair_each_head_with_its_own_loss() -> None:
    model = zoo.build("ticket_probabilities")
    assert list(model.output_names) == ["department", "priority"]  # Keras orders dict outputs by key
    advice = advise(model)
    assert [(h.name, h.task, h.output_activation) for h in advice.heads] == [
        ("department", "multiclass", "softmax"),
        ("priority", "binary", "sigmoid"),
    ]
    assert not advice.errors
    new = apply(model, advice)
    assert _heads(new) == [("department", "softmax"), ("priority", "sigmoid")]
    assert {k: type(v).__name__ for k, v in new.loss.items()} == {
        "priority": "BinaryCrossentropy",
        "department": "CategoricalCrossentropy",
    }


def test_a_wrong_head_is_named_and_only_it_changes() -> None:
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    good = keras.layers.Dense(3, activation="softmax", name="kind")(x)
    bad = keras.layers.Dense(1, activation="softmax", name="score")(x)
    model = keras.Model(inputs, {"kind": good, "score": bad})
    model.compile("adam", {"kind": "sparse_categorical_crossentropy", "score": "binary_crossentropy"})
    advice = advise(model)
    errors = [(f.code, f.head) for f in advice.errors]
    assert ("softmax-single-unit", "score") in errors and all(head == "score" for _, head in errors)
    new = apply(model, advice)
    assert dict(_heads(new)) == {"kind": "softmax", "score": "sigmoid"}
    assert new.get_layer("kind").get_config() == {**model.get_layer("kind").get_config()}


def test_applied_models_round_trip(tmp_path) -> None:
    model = zoo.build("MobileNetV3Small")
    new = apply(model, advise(model))
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32") * 255
    expected = np.asarray(new(x, training=False))
    new.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(restored(x, training=False)), expected, rtol=1e-5, atol=1e-6)


def test_confirm_reads_conv_bn_relu_blocks_as_relu() -> None:
    from keras_act.advisor.confirm import _current_configuration

    assert _current_configuration(zoo.build("ResNet50")) == ("relu", "glorot_uniform")
    assert _current_configuration(zoo.build("conv1d_classifier")) == ("relu", "glorot_uniform")


@pytest.mark.slow
def test_confirm_searches_the_guides_multi_input_multi_output_model() -> None:
    from keras_act.advisor import confirm

    model = zoo.build("ticket_probabilities")
    rng = np.random.default_rng(0)
    x = {
        "title": rng.integers(0, 1000, (40, 5)),
        "body": rng.integers(0, 1000, (40, 8)),
        "tags": rng.integers(0, 2, (40, 12)).astype("float32"),
    }
    y = {"priority": rng.uniform(size=(40, 1)), "department": np.eye(4)[rng.integers(0, 4, 40)]}
    result = confirm(model, x, y, candidates=["relu"], executions_per_trial=1, epochs=1, verbose=0)
    assert "priority (binary_crossentropy x 1), department (categorical_crossentropy x 0.2)" in str(result) or (
        "department (categorical_crossentropy x 0.2), priority (binary_crossentropy x 1)" in str(result)
    )


@pytest.mark.parametrize(
    "name, flags",
    [
        ("EfficientNetB0", (True, True, False, False, False, True)),
        ("ResNet50", (True, False, False, False, False, True)),
        ("transformer_classifier", (False, False, True, True, False, True)),
        ("gru_classifier", (False, False, True, False, True, False)),
        ("conv1d_classifier", (True, False, False, False, False, True)),  # Conv1D is a convolution too
    ],
)
def test_structure_flags(name: str, flags: tuple[bool, ...]) -> None:
    v = view(zoo.build(name))
    assert (
        v.has_conv,
        v.has_depthwise,
        v.has_embedding,
        v.has_attention,
        v.has_recurrent,
        v.has_normalization,
    ) == flags
