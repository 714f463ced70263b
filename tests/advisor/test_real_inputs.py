"""advise() on the inputs of keras.io pipelines: raw text, token ids, dicts of columns, datasets."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_act.advisor import advise
from keras_act.advisor.inspection import view

L = keras.layers
RNG = np.random.default_rng(0)
SENTENCES = np.array(
    [
        f"{a} {b} {c}"
        for a, b, c in RNG.choice(["good", "bad", "film", "plot", "great", "awful", "actor", "slow"], size=(96, 3))
    ]
)
LABELS = np.array([float("good" in s or "great" in s) for s in SENTENCES], dtype="float32")


def text_classifier() -> keras.Model:
    vectorize = L.TextVectorization(max_tokens=20, output_sequence_length=3)
    vectorize.adapt(SENTENCES)
    inputs = keras.Input((), dtype="string")
    x = L.GlobalAveragePooling1D()(L.Embedding(20, 8)(vectorize(inputs)))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.Dense(16, activation="relu")(x)))
    model.compile("adam", "binary_crossentropy")
    return model


def codes(advice) -> set[str]:
    return {f.code for f in advice.findings}


@pytest.mark.parametrize("form", ["array", "dataset", "pydataset"])
def test_a_text_model_is_measured_on_raw_strings(form: str) -> None:
    model = text_classifier()
    if form == "array":
        advice = advise(model, x=SENTENCES, y=LABELS)
    elif form == "dataset":
        advice = advise(model, x=tf.data.Dataset.from_tensor_slices((SENTENCES, LABELS)).batch(16))
    else:

        class Batches(keras.utils.PyDataset):
            def __len__(self) -> int:
                return 6

            def __getitem__(self, index: int):
                return SENTENCES[index * 16 : (index + 1) * 16], LABELS[index * 16 : (index + 1) * 16]

        advice = advise(model, x=Batches())
    assert [row.units for row in advice.diagnostics] == [16]
    assert advice.diagnostics[0].grad_norm is not None and advice.diagnostics[0].grad_norm > 0
    assert advice.input_summary is None and "input-scale" not in codes(advice)
    assert advice.input_preprocessing == [model.layers[1].name, model.layers[2].name]
    assert "[0, 1]" not in str(advice) and "encoded inside the model" in advice.reasons["input_range"]


def test_token_ids_into_an_embedding_are_not_scaled() -> None:
    inputs = keras.Input((5,), dtype="int32")
    x = L.Flatten()(L.Embedding(1000, 4)(inputs))
    model = keras.Model(inputs, L.Dense(3, activation="softmax")(L.Dense(8, activation="relu")(x)))
    ids = RNG.integers(0, 1000, size=(64, 5)).astype("int32")  # mean ~500: off scale as numbers
    advice = advise(model, x=ids, y=RNG.integers(0, 3, size=64))
    assert "input-scale" not in codes(advice) and advice.input_preprocessing == [model.layers[1].name]
    assert view(model).raw_inputs == []


def _columns(rows: int = 64) -> dict[str, np.ndarray]:
    return {
        "age": RNG.normal(1000.0, 5.0, size=(rows, 1)).astype("float32"),
        "city": RNG.choice(["paris", "lima", "oslo"], size=(rows, 1)),
        "unused": np.zeros((rows, 1)),
    }


def dict_model(normalize_age: bool) -> keras.Model:
    columns = _columns()
    age, city = keras.Input((1,), name="age"), keras.Input((1,), name="city", dtype="string")
    lookup = L.StringLookup(output_mode="one_hot")
    lookup.adapt(columns["city"])
    age_features = age
    if normalize_age:
        normalizer = L.Normalization()
        normalizer.adapt(columns["age"])
        age_features = normalizer(L.Reshape((1,))(age))  # not the first layer on its path
    x = L.Concatenate()([age_features, lookup(city)])
    model = keras.Model({"city": city, "age": age}, L.Dense(1)(L.Dense(8, activation="relu")(x)))
    return model


def test_dict_inputs_scale_advice_reads_only_the_raw_numbers() -> None:
    raw = advise(dict_model(normalize_age=False), task="regression", x=_columns(), y=RNG.normal(size=64))
    assert "input-scale" in codes(raw)
    assert raw.input_summary.mean[0] == pytest.approx(1000.0, abs=3)  # the age column, not the city codes
    assert raw.input_preprocessing == [] and "[0, 1]" in str(raw)
    model = dict_model(normalize_age=True)
    scaled = advise(model, task="regression", x=_columns(), y=RNG.normal(size=64))
    assert "input-scale" not in codes(scaled) and scaled.input_summary is None
    assert set(scaled.input_preprocessing) == {
        layer.name for layer in model.layers if isinstance(layer, (L.Normalization, L.StringLookup))
    }
    assert [row.units for row in scaled.diagnostics] == [8]


def test_a_dict_dataset_is_read_by_input_name() -> None:
    columns = _columns()
    dataset = tf.data.Dataset.from_tensor_slices((columns, RNG.normal(size=64))).batch(8)
    advice = advise(dict_model(normalize_age=False), task="regression", x=dataset)
    assert "input-scale" in codes(advice) and advice.diagnostics[0].grad_norm is not None


def test_bad_inputs_get_one_clear_error() -> None:
    numbers_model = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    with pytest.raises(TypeError, match=r"strings for input .*TextVectorization"):
        advise(numbers_model, x=np.array([["a", "b", "c"]]))
    with pytest.raises(TypeError, match=r"takes strings, `x` holds float"):
        advise(text_classifier(), x=np.zeros(4))
    columns = _columns()
    del columns["city"]
    with pytest.raises(ValueError, match=r"no entry for the model's input\(s\) \['city'\]"):
        advise(dict_model(normalize_age=False), x=columns)
