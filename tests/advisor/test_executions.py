"""The executions of a search row: every training path scores exactly as one-by-one trainings do,
and each execution says which path trained it and why the earlier ones were refused."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import keras
import numpy as np
import pytest

from keras_act.advisor import row_training, vectorized
from keras_act.advisor.executions import train_executions
from keras_act.advisor.fused import FUSED
from keras_act.advisor.row_training import Execution, Job, RowTraining, early_stop

SEED = 7
EXECUTIONS = 3
# On PyTorch a fused execution's dropout masks come from another random stream than a lone model's
# (the executions stay independent; their numbers are not the lone models' to float tolerance).
# The path that trains executions together: vectorized on TensorFlow, fused elsewhere.
TOGETHER = "vectorized" if keras.backend.backend() == "tensorflow" else "fused"
DROPOUT = 0.0 if keras.backend.backend() == "torch" else 0.2


def data(rows: int = 90) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 5)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=rows) > 0).astype("float32")
    return x[:60], y[:60], x[60:], y[60:]


def mlp(regularizer: str | None = None) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(16, activation="tanh", kernel_regularizer=regularizer),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(DROPOUT),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def spec(
    build=mlp, optimizer=lambda: keras.optimizers.Adam(0.01), objective: str = "val_loss", shuffle: bool = False
) -> RowTraining:
    return RowTraining(
        build=build,
        loss="binary_crossentropy",
        metrics=["accuracy"],
        optimizer=optimizer,
        objective=objective,
        higher_is_better=objective.endswith("accuracy"),
        epochs=12,
        batch_size=16,
        patience=2,
        shuffle=shuffle,
    )


@functools.cache
def plain_reference(objective: str) -> list[tuple[float, int]]:
    """`one_by_one` of the plain MLP (shared by the tests that compare with it)."""
    return one_by_one(spec(objective=objective), data())


def one_by_one(
    row: RowTraining,
    split: tuple[np.ndarray, ...],
    executions: Sequence[int] = range(EXECUTIONS),
    sample_weight: np.ndarray | None = None,
) -> list[tuple[float, int]]:
    """The reference: plain Keras fits, one per seed, rows in order, Keras' own EarlyStopping;
    `split` may hold the validation rows' weights as a fifth array."""
    x, y, x_val, y_val = split[:4]
    found = []
    for index in executions:
        keras.utils.set_random_seed(SEED + index)
        model = row.build()
        model.compile(optimizer=row.optimizer(), loss=row.loss, metrics=list(row.metrics))
        mode = "max" if row.higher_is_better else "min"
        history = model.fit(
            x,
            y,
            sample_weight=sample_weight,
            validation_data=(x_val, y_val, *split[4:]),
            epochs=row.epochs,
            batch_size=row.batch_size,
            shuffle=False,
            verbose=0,
            callbacks=[keras.callbacks.EarlyStopping(monitor=row.objective, mode=mode, patience=row.patience)],
        ).history
        curve = history[row.objective]
        found.append((max(curve) if row.higher_is_better else min(curve), len(curve)))
    return found


def assert_same(found: list[Execution], reference: list[tuple[float, int]]) -> None:
    assert [e.epochs for e in found] == [epochs for _, epochs in reference]
    np.testing.assert_allclose([e.score for e in found], [score for score, _ in reference], rtol=2e-5)


@pytest.mark.parametrize("objective", ["val_loss", "val_accuracy"])
def test_executions_trained_together_score_as_one_by_one_fits_with_the_rows_in_order(objective) -> None:
    split = data()
    row = spec(objective=objective)
    found = train_executions(row, split, EXECUTIONS, SEED)
    assert_same(found, plain_reference(objective))
    assert {e.path for e in found} == {TOGETHER}
    if objective == "val_loss":  # (30 validation rows make accuracies tie)
        assert len({e.score for e in found}) == EXECUTIONS  # the seeds give different trainings


@pytest.mark.parametrize("objective", ["val_loss", "val_accuracy"])
def test_weighted_executions_score_as_weighted_one_by_one_fits(objective) -> None:
    x, y, x_val, y_val = data()
    split = (x, y, x_val, y_val, np.where(y_val > 0, 2.0, 1.0).astype("float32"))
    weights = np.where(y > 0, 3.0, 0.5).astype("float32")
    row = spec(objective=objective)
    found = train_executions(row, split, EXECUTIONS, SEED, sample_weight=weights)
    assert_same(found, one_by_one(row, split, sample_weight=weights))
    if objective == "val_loss":  # the weights change the scores
        assert [e.score for e in found] != pytest.approx([s for s, _ in plain_reference(objective)], rel=1e-3)


def test_an_execution_that_stops_early_is_scored_at_its_own_stop() -> None:
    split = data()
    found = train_executions(spec(), split, EXECUTIONS, SEED)
    assert min(e.epochs for e in found) < 12  # patience 2 stopped at least one execution early
    assert all(e.best_epoch < e.epochs for e in found)


def test_groups_of_executions_when_the_model_is_too_large_to_train_them_all_together(monkeypatch) -> None:
    split = data()
    weights = mlp().count_params()
    monkeypatch.setattr(row_training, "TOGETHER_WEIGHTS_LIMIT", 2 * weights)  # groups of 2, then 1
    found = train_executions(spec(), split, EXECUTIONS, SEED)
    assert_same(found, plain_reference("val_loss"))
    assert [e.path for e in found] == [TOGETHER, TOGETHER, "one by one"]
    assert dict(found[2].refused)["fused"] == "one execution to train"


@pytest.mark.parametrize(
    "row",
    [
        spec(build=lambda: mlp(regularizer="l2")),  # the fused executions' own losses would leave the L2 term out
        spec(optimizer=lambda: keras.optimizers.Adam(0.01, global_clipnorm=0.1)),  # couples the executions
    ],
    ids=["regularized-loss", "global-clipnorm"],
)
def test_what_fusing_would_change_trains_another_way(row) -> None:
    split = data()
    found = train_executions(row, split, EXECUTIONS, SEED)
    assert_same(found, one_by_one(row, split))
    refused = dict(found[0].refused)
    if row.build is mlp:  # global_clipnorm: neither way of training together applies
        assert [e.path for e in found] == ["one by one"] * EXECUTIONS
        assert "global_clipnorm" in refused["vectorized"] and "global_clipnorm" in refused["fused"]
    else:  # the vectorized executions count their own regularization losses; the fused ones cannot
        assert "regularization losses" in FUSED.refusal(executions_job(row, split))
        assert found[0].path == ("vectorized" if TOGETHER == "vectorized" else "one by one")


def activity_regularized() -> keras.Model:
    # Its penalty is a loss term added in call: the built model's `losses` do not show it.
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, activation="tanh", activity_regularizer="l2"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_a_path_that_fails_while_training_hands_fresh_models_to_the_next() -> None:
    # Lamb is refused by the vectorized path; the fused model then trains, finds its total loss
    # is not the sum of the executions' own (the activity penalty), and is refused: one by one
    # must start from freshly seeded models, not the ones the fused fit trained.
    row = spec(build=activity_regularized, optimizer=lambda: keras.optimizers.Lamb(0.01))
    split = data()
    found = train_executions(row, split, EXECUTIONS, SEED)
    assert_same(found, one_by_one(row, split))
    assert [e.path for e in found] == ["one by one"] * EXECUTIONS
    refused = dict(found[0].refused)
    assert "Lamb" in refused["vectorized"] or "TensorFlow" in refused["vectorized"]
    assert "not the sum of the executions' own losses" in refused["fused"]
    assert all(dict(e.refused)["fused"] == refused["fused"] for e in found)  # tried once, remembered


def test_one_by_one_on_request_gives_the_same_scores() -> None:
    split = data()
    found = train_executions(spec(), split, EXECUTIONS, SEED, fuse=False)
    assert_same(found, plain_reference("val_loss"))
    assert all(e.path == "one by one" for e in found)
    assert dict(found[0].refused) == {
        "vectorized": "one by one on request (fuse_executions=False)",
        "fused": "one by one on request (fuse_executions=False)",
    }


def test_with_shuffling_each_execution_draws_its_own_order_every_epoch() -> None:
    rows = 40
    x = np.arange(rows, dtype="float32").reshape(rows, 1)
    orders = row_training.training_batches(
        [x], np.arange(rows), [np.arange(rows)] * 3, batch_size=rows, shuffle=True, seed=SEED
    )
    epochs = [[np.asarray(labels) for labels in next(iter(orders))[1]] for _ in range(2)]
    for epoch in epochs:
        for order in epoch:
            assert sorted(order.tolist()) == list(range(rows))  # every row once per epoch
        assert len({tuple(order) for order in epoch}) == 3  # executions differ
    assert all(not np.array_equal(a, b) for a, b in zip(*epochs))  # each execution reshuffles
    again = row_training.training_batches(
        [x], np.arange(rows), [np.arange(rows)] * 3, batch_size=rows, shuffle=True, seed=SEED
    )
    np.testing.assert_array_equal(np.asarray(next(iter(again))[1][0]), epochs[0][0])  # seeded
    inputs, labels = next(iter(orders))
    for features, label in zip(inputs, labels):
        np.testing.assert_array_equal(np.asarray(features)[:, 0], np.asarray(label))  # x and y stay paired


def test_shuffled_executions_trained_together_still_train_to_sensible_scores() -> None:
    split = data()
    found = train_executions(spec(shuffle=True), split, EXECUTIONS, SEED)
    assert all(np.isfinite(e.score) and e.score < 0.69 for e in found)  # learnt beyond chance (ln 2)
    assert [e.score for e in found] != pytest.approx([score for score, _ in plain_reference("val_loss")])


def assert_vectorized(found: list[Execution]) -> None:
    assert [e.path for e in found] == ["vectorized"] * len(found), [(e.path, e.refused) for e in found]


def executions_job(row: RowTraining, split: tuple[np.ndarray, ...]) -> Job:
    """The job `train_executions` hands the paths first."""
    x, y, x_val, y_val = split
    own = [row_training.execution_data([x], y, (x_val, y_val), 0.2, SEED + i) for i in range(EXECUTIONS)]
    return Job(row, [x], y, own, SEED)


on_tensorflow = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow path")


@on_tensorflow
@pytest.mark.parametrize("objective", ["val_loss", "val_accuracy"])
def test_on_tensorflow_the_executions_train_as_one_vectorized_graph(objective) -> None:
    found = train_executions(spec(objective=objective), data(), EXECUTIONS, SEED)
    assert_vectorized(found)  # batch normalization and dropout included
    assert_same(found, plain_reference(objective))


@on_tensorflow
def test_vectorized_executions_count_their_own_regularization_losses() -> None:
    row, split = spec(build=lambda: mlp(regularizer="l2")), data()
    found = train_executions(row, split, EXECUTIONS, SEED)
    assert_vectorized(found)
    assert_same(found, one_by_one(row, split))


@on_tensorflow
def test_vectorized_executions_build_the_weights_of_a_layer_used_as_an_activation() -> None:
    import keras_act

    # Dense(activation=Swish()) makes Swish's beta on the Dense's first call, not when the model is built.
    row = spec(
        build=lambda: keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(8, activation=keras_act.Swish()),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
    )
    split = data()
    found = train_executions(row, split, EXECUTIONS, SEED)
    assert_vectorized(found)
    assert_same(found, one_by_one(row, split))


@on_tensorflow
def test_a_later_round_reuses_the_row_s_traced_step_and_scores_as_a_fresh_trace(monkeypatch) -> None:
    # A race trains a row in rounds: round two loads its executions' models into round one's traced step
    # (batch normalization's statistics, dropout's seeds and Adam's slots start afresh).
    import dataclasses

    from keras_act.advisor import vectorized

    row, split = dataclasses.replace(spec(build=lambda: mlp(regularizer="l2")), traced={}), data()
    assert_vectorized(train_executions(row, split, EXECUTIONS, SEED))
    traces = []
    monkeypatch.setattr(vectorized._Trainer, "trace", lambda *args: traces.append(args) or None)
    reused = train_executions(row, split, EXECUTIONS, SEED + EXECUTIONS)
    assert traces == [] and list(row.traced) == [EXECUTIONS]
    assert_vectorized(reused)
    monkeypatch.undo()
    assert_same(reused, one_by_one(row, split, range(EXECUTIONS, 2 * EXECUTIONS)))


@on_tensorflow
def test_a_stack_that_drops_its_stopped_executions_scores_as_one_by_one_fits(monkeypatch) -> None:
    # Once executions have stopped, the rest can train on in a smaller stack (weights, batch
    # normalization's statistics, dropout's seeds and Adam's slots carried over): each execution's
    # numbers stay a lone fit's.
    from keras_act.advisor import vectorized

    row, split, executions = spec(build=lambda: mlp(regularizer="l2")), data(), 6
    reference = one_by_one(row, split, range(executions))
    assert len({epochs for _, epochs in reference}) > 1  # the executions stop at different epochs
    # Forced: the stack shrinks whenever an execution stops.
    monkeypatch.setattr(vectorized, "_shrink_pays", lambda training, stacked, *costs: training < stacked)
    stacks = []
    subset = vectorized._Trainer.subset
    monkeypatch.setattr(
        vectorized._Trainer, "subset", lambda self, keep, *args: stacks.append(len(keep)) or subset(self, keep, *args)
    )
    found = train_executions(row, split, executions, SEED)
    assert_vectorized(found)
    assert_same(found, reference)
    assert stacks and stacks[0] < executions
    # Shuffled, the smaller stack goes on with each execution's own orders: the numbers do not depend
    # on whether (or when) the stack shrank.
    shuffled = spec(build=lambda: mlp(regularizer="l2"), shuffle=True)
    shrinks = len(stacks)
    shrunk = train_executions(shuffled, split, executions, SEED)
    assert len(stacks) > shrinks
    monkeypatch.setattr(vectorized, "_shrink_pays", lambda *args: False)
    assert_same(train_executions(shuffled, split, executions, SEED), [(e.score, e.epochs) for e in shrunk])


def test_a_smaller_stack_pays_only_when_the_stopped_executions_would_cost_more_than_a_trace() -> None:
    assert vectorized._shrink_pays(3, 10, epoch_seconds=2.0, epochs_left=10, trace_seconds=3.0)
    assert not vectorized._shrink_pays(6, 10, epoch_seconds=2.0, epochs_left=10, trace_seconds=3.0)  # most train
    assert not vectorized._shrink_pays(3, 10, epoch_seconds=0.05, epochs_left=10, trace_seconds=3.0)  # cheap epochs
    assert not vectorized._shrink_pays(3, 10, epoch_seconds=2.0, epochs_left=1, trace_seconds=3.0)  # nearly done


def embedding_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(10, 3),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@pytest.mark.parametrize(
    "row",
    [
        spec(optimizer=lambda: keras.optimizers.Lamb(0.01)),  # its per-variable norm would mix stacked executions
        spec(build=embedding_model),  # Keras squares each looked-up row's sparse gradient: not a dense step
    ],
    ids=["lamb", "embedding"],
)
def test_what_vectorizing_would_change_trains_another_way(row) -> None:
    x, y, x_val, y_val = data()
    if row.build is embedding_model:
        x, x_val = (np.abs(a[:, :4] * 3).astype("int32") % 10 for a in (x, x_val))
        if keras.backend.backend() == "tensorflow":
            models = [row.build() for _ in range(2)]
            own_data = [row_training.ExecutionData(np.arange(len(y)), [x_val], y_val)] * 2
            with pytest.raises(row_training.Refused, match="sparse gradient"):
                vectorized.fit_vectorized(row, models, [x], y, own_data, SEED, lambda done: None)
    else:
        refusal = vectorized.vectorizing_refusal(row, row.optimizer())
        assert "Lamb" in refusal if TOGETHER == "vectorized" else "TensorFlow" in refusal
    found = train_executions(row, (x, y, x_val, y_val), EXECUTIONS, SEED)
    assert_same(found, one_by_one(row, (x, y, x_val, y_val)))
    assert "vectorized" in dict(found[0].refused) and found[0].path == TOGETHER.replace("vectorized", "fused")


def _all_rows() -> tuple[np.ndarray, np.ndarray]:
    x, y, x_val, y_val = data()
    return np.concatenate([x, x_val]), np.concatenate([y, y_val])


@functools.cache
def own_rows_reference() -> list[tuple[float, int]]:
    """Execution i fitted alone on the rows its own seed holds out (shared by both paths' tests)."""
    x, y = _all_rows()
    reference = []
    for index in range(EXECUTIONS):
        own = row_training.execution_data([x], y, None, spec().validation_split, SEED + index)
        rows = own.train_rows
        reference += one_by_one(spec(), (x[rows], y[rows], own.x_val[0], own.y_val), executions=[index])
    return reference


@pytest.mark.parametrize("fuse", [True, False])
def test_without_validation_data_each_execution_holds_out_its_own_rows(fuse) -> None:
    x, y = _all_rows()
    assert_same(train_executions(spec(), (x, y, None, None), EXECUTIONS, SEED, fuse=fuse), own_rows_reference())
    splits = [row_training.execution_data([x], y, None, 0.2, SEED + i) for i in range(2)]
    assert not np.array_equal(splits[0].train_rows, splits[1].train_rows)  # another split per execution
    assert all(len(s.train_rows) == 72 and len(s.y_val) == 18 for s in splits)


def test_stacked_batches_give_each_execution_the_rows_of_its_own_order() -> None:
    rows = 12
    x = np.arange(rows, dtype="float32").reshape(rows, 1)
    flat = row_training.training_batches(
        [x], np.arange(rows), [np.arange(rows)] * 3, batch_size=5, shuffle=True, seed=SEED
    )
    stacked = row_training.training_batches(
        [x], np.arange(rows), [np.arange(rows)] * 3, batch_size=5, shuffle=True, seed=SEED, stacked=True
    )
    for (inputs, labels), (stacked_inputs, stacked_labels) in zip(flat, stacked):
        np.testing.assert_array_equal(np.stack([np.asarray(order) for order in labels]), np.asarray(stacked_labels))
        np.testing.assert_array_equal(np.stack([np.asarray(i) for i in inputs]), np.asarray(stacked_inputs[0]))


@pytest.mark.parametrize("higher", [False, True])
def test_early_stop_replays_keras_early_stopping(higher) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        curve = rng.normal(size=rng.integers(1, 15)).tolist()
        if rng.random() < 0.3:
            curve[rng.integers(len(curve))] = float("nan")
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        callback = keras.callbacks.EarlyStopping(monitor="val_m", mode="max" if higher else "min", patience=3)
        model.stop_training = False
        callback.set_model(model)
        callback.on_train_begin()
        ran = len(curve)
        for epoch, value in enumerate(curve):
            callback.on_epoch_end(epoch, {"val_m": value})
            if model.stop_training:
                ran = epoch + 1
                break
        best_epoch, epochs, stopped = early_stop(curve, patience=3, higher_is_better=higher)
        assert (epochs, stopped) == (ran, model.stop_training)
        finite = [v if np.isfinite(v) else (-np.inf if higher else np.inf) for v in curve[:epochs]]
        assert best_epoch == (int(np.argmax(finite)) if higher else int(np.argmin(finite)))


@on_tensorflow
def test_after_each_epoch_the_vectorized_executions_predict_as_each_would_alone() -> None:
    # The atlas scores a test split at each execution's best epoch with this hook: each one's
    # predictions must be its own model's, with that epoch's weights.
    x, y, x_val, y_val = data()
    row = spec()
    models = []
    for index in range(EXECUTIONS):
        keras.utils.set_random_seed(SEED + index)
        models.append(row.build())
    own_data = [row_training.ExecutionData(np.arange(len(x)), [x_val], y_val)] * EXECUTIONS
    predicted = []
    histories = vectorized.fit_vectorized(
        row,
        models,
        [x],
        y,
        own_data,
        SEED,
        lambda done: None,
        after_epoch=lambda predict: predicted.append(predict([x_val[:7]])),
    )
    epochs = len(histories[0]["val_loss"])
    assert len(predicted) == epochs and predicted[0].shape == (EXECUTIONS, 7, 1)
    for index in range(EXECUTIONS):
        keras.utils.set_random_seed(SEED + index)
        alone = row.build()
        alone.compile(optimizer=row.optimizer(), loss=row.loss)
        alone.fit(x, y, epochs=epochs, batch_size=row.batch_size, shuffle=False, verbose=0)
        np.testing.assert_allclose(predicted[-1][index], alone.predict(x_val[:7], verbose=0), rtol=2e-5, atol=1e-6)
