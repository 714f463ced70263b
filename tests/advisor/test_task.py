"""Task inference from the argument, the loss, the output layer and the labels."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act.advisor.task import infer_task, read_loss, task_from_labels


def _model(units=1, activation=None, loss=None, activation_layer=None):
    layers = [
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(units, activation=activation),
    ]
    if activation_layer is not None:
        layers.append(activation_layer)
    model = keras.Sequential(layers)
    if loss is not None:
        model.compile("adam", loss)
    return model


def _codes(inference):
    return [f.code for f in inference.findings]


@pytest.mark.parametrize(
    "loss, units, expected",
    [
        ("binary_crossentropy", 1, "binary"),
        (keras.losses.BinaryCrossentropy(from_logits=True), 1, "binary"),
        ("binary_crossentropy", 3, "multilabel"),
        ("categorical_crossentropy", 3, "multiclass"),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), 2, "multiclass"),
        ("mse", 1, "regression"),
        (keras.losses.Huber(), 1, "regression"),
        ("mean_absolute_error", 2, "regression"),
    ],
)
def test_task_from_loss(loss, units, expected):
    inference = infer_task(_model(units, loss=loss))
    assert (inference.task, inference.source) == (expected, "loss")


def test_two_unit_softmax_with_sparse_crossentropy_is_multiclass_without_disagreement():
    inference = infer_task(_model(2, "softmax", "sparse_categorical_crossentropy"))
    assert inference.task == "multiclass" and _codes(inference) == []


@pytest.mark.parametrize(
    "units, activation, layer, expected",
    [
        (1, "sigmoid", None, "binary"),
        (4, "sigmoid", None, "multilabel"),
        (3, "softmax", None, "multiclass"),
        (3, None, keras.layers.Activation("softmax"), "multiclass"),
        (3, None, keras_act.Softmax(), "multiclass"),
        (1, None, keras_act.Sigmoid(), "binary"),
        (1, "softplus", None, "regression"),
    ],
)
def test_task_from_output_layer(units, activation, layer, expected):
    inference = infer_task(_model(units, activation, activation_layer=layer))
    assert (inference.task, inference.source) == (expected, "output")


@pytest.mark.parametrize(
    "y, expected",
    [
        (np.array([0, 1, 1, 0]), "binary"),
        (np.array([True, False]), "binary"),
        (np.array([0, 2, 1, 3]), "multiclass"),
        (np.eye(3)[[0, 1, 2, 1]], "multiclass"),
        (np.array([[1, 0, 1], [0, 1, 1]]), "multilabel"),
        (np.array([0.5, 2.5, -1.0]), "regression"),
        (np.arange(1000), "regression"),  # integers with too many values: a count or a price
        (np.array([[0.2, 0.8], [0.5, 0.5]]), "multiclass"),
    ],
)
def test_task_from_labels(y, expected):
    assert task_from_labels(y) == expected


def test_linear_output_lets_the_labels_decide():
    inference = infer_task(_model(3), y=np.array([0, 1, 2]))
    assert (inference.task, inference.source) == ("multiclass", "labels")


def test_linear_output_without_loss_or_labels_assumes_regression_and_says_so():
    inference = infer_task(_model(1))
    assert (inference.task, inference.source) == ("regression", "default")
    assert _codes(inference) == ["task-assumed"]


def test_explicit_task_wins_and_disagreement_is_noted():
    inference = infer_task(_model(1, "sigmoid", "binary_crossentropy"), task="regression")
    assert (inference.task, inference.source) == ("regression", "argument")
    assert inference.votes == {"argument": "regression", "loss": "binary", "output": "binary"}
    [finding] = inference.findings
    # The declared task contradicts the compiled loss: the model trains for another task.
    assert finding.code == "task-sources-disagree" and finding.severity == "warning"
    assert "argument: regression" in finding.message and "loss: binary" in finding.message
    assert "mean_squared_error" in finding.fix and "drop task=" in finding.fix
    assert "output-loss-mismatch" not in finding.fix  # names no finding that was not reported


def test_loss_beats_output_when_they_disagree():
    inference = infer_task(_model(1, "sigmoid", "mse"))
    assert (inference.task, inference.source) == ("regression", "loss")
    [finding] = inference.findings
    assert (finding.code, finding.severity) == ("task-sources-disagree", "info")
    assert "Check the output against the loss (regression)" in finding.fix


def test_invalid_task_lists_the_valid_ones():
    with pytest.raises(ValueError, match="binary, multiclass, multilabel, regression"):
        infer_task(_model(), task="classification")


@pytest.mark.parametrize("y, error", [(np.array(["a", "b"]), TypeError), (np.array([0.0, np.nan]), ValueError)])
def test_bad_labels_are_clear_errors(y, error):
    with pytest.raises(error, match="`y`"):
        task_from_labels(y)


def test_read_loss_handles_functions_and_reads_one_head_at_a_time():
    assert read_loss(keras.losses.mean_squared_error).name == "mean_squared_error"
    # a list or dict is several heads' losses: each head reads its own (advisor.inspection.Head)
    assert read_loss(["categorical_crossentropy", "mse"]) is None
    assert read_loss({"a": "mse"}) is None
    assert read_loss(None) is None
