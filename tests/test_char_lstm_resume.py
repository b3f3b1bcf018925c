"""A Colab disconnect loses no training: an interrupted, resumed run ends with exactly
the weights of an uninterrupted one, and the loss curve keeps every epoch."""

import keras
import numpy as np
import pytest

from textgen_utils import charlstm, training

TEXT = "the will to truth is a will to power; every truth is a mask. " * 6
EPOCHS = 3


class Disconnect(Exception):
    """Stands in for a Colab runtime that goes away mid-epoch."""


class DisconnectAt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise Disconnect()


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def _run(backup_dir, extra_callbacks=(), seed=0):
    """Build a seeded model and fit it with a fixed data order; return (model, log)."""
    keras.utils.set_random_seed(seed)
    vocab = charlstm.CharVocab.from_text(TEXT)
    data = charlstm.window_dataset(vocab.encode(TEXT), maxlen=10, step=2, batch_size=16, shuffle=False)
    model = charlstm.build_model(len(vocab), units=8)
    log = training.EpochLog("resume-test", directory=backup_dir)
    model.fit(data, epochs=EPOCHS, verbose=0,
              callbacks=[*training.resumable("resume-test", directory=backup_dir), log, *extra_callbacks])
    return model, log


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    straight, straight_log = _run(tmp_path_factory.mktemp("straight"))
    backup = tmp_path_factory.mktemp("interrupted")
    with pytest.raises(Disconnect):
        _run(backup, [DisconnectAt(epoch=1, batch=3)])  # in the middle of epoch 2
    left_behind = sorted(p.name for p in backup.iterdir())
    # The learner reruns the training cell. A different seed gives different initial
    # weights, so only a real restore can reproduce the uninterrupted weights.
    counter = EpochCounter()
    resumed, resumed_log = _run(backup, [counter], seed=1)
    assert counter.epochs == [1, 2], f"training must resume at epoch 2, ran epochs {counter.epochs}"
    return straight, straight_log, resumed, resumed_log, left_behind, backup


def test_the_interrupted_run_leaves_a_backup(runs):
    *_, left_behind, _ = runs
    assert "epoch_log.json" in left_behind and any(name.endswith(".h5") for name in left_behind), left_behind


def test_a_resumed_run_ends_with_exactly_the_uninterrupted_weights(runs):
    straight, _, resumed, *_ = runs
    for a, b in zip(straight.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_resumed_runs_curve_has_every_epoch(runs):
    _, straight_log, _, resumed_log, _, backup = runs
    assert len(resumed_log.history["loss"]) == EPOCHS
    assert resumed_log.history["loss"] == straight_log.history["loss"]
    assert not (backup / "epoch_log.json").exists(), "a finished run leaves nothing to resume"


def test_a_finished_run_starts_fresh_next_time(runs, tmp_path):
    _, first = _run(tmp_path)
    _, second = _run(tmp_path)
    assert first.history == second.history and len(second.history["loss"]) == EPOCHS
