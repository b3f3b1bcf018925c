"""textgen_utils.training: resuming after an interruption, per-epoch sample tables, curves."""

import keras
import numpy as np
import pytest

from textgen_utils import training


class Interrupt(keras.callbacks.Callback):
    """Stands in for a Colab disconnect: stops training in the middle of an epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt("simulated disconnect")


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.RMSprop(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, size=64)


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    backup = tmp_path / "backup"
    x, y = data()
    straight = tiny_model()
    straight.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0)

    first = tiny_model()
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0,
                  callbacks=[*training.resumable("t", backup), Interrupt(epoch=2, batch=3)])
    assert any(backup.iterdir()), "a backup was left for the rerun"

    rerun = tiny_model()  # a fresh kernel rebuilds the model and calls fit again
    history = rerun.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0,
                        callbacks=training.resumable("t", backup))
    assert len(history.history["loss"]) == 2, "resumed at epoch 3 of 4"
    for a, b in zip(straight.get_weights(), rerun.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not backup.exists() or not any(backup.iterdir()), "a finished run deletes its backup"


def test_checkpoints_go_to_drive_when_mounted_and_are_split_by_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("TEXTGEN_CHECKPOINT_DIR", raising=False)
    drive = tmp_path / "MyDrive"
    drive.mkdir()
    monkeypatch.setattr(training, "DRIVE", drive)
    assert training.checkpoint_root() == drive / "textgen-course" / "checkpoints" / "smoke"
    monkeypatch.setenv("TEXTGEN_CHECKPOINT_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    assert training.checkpoint_root() == tmp_path / "mine" / "full"
    with pytest.raises(ValueError):
        training.resumable("../escape")


def test_sample_table_collects_one_row_per_temperature(capsys):
    calls = []

    def generate(t):
        calls.append(t)
        return f"sample at {t}\nwith a newline"

    table = training.SampleTable(generate, temperatures=(0.2, 1.0), every=2)
    for epoch in range(4):
        table.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    assert calls == [0.2, 1.0, 0.2, 1.0], "every=2 generates after epochs 2 and 4"
    wide = table.table()
    assert list(wide.index) == [2, 4] and list(wide.columns) == [0.2, 1.0]
    assert wide.loc[2, 0.2] == "sample at 0.2 with a newline", "one line per sample"
    assert "epoch 2 - loss 0.5000" in capsys.readouterr().out


def test_plot_history_draws_train_and_validation():
    import matplotlib

    from textgen_utils.runtime import setup_korean_font

    matplotlib.use("Agg")
    setup_korean_font()
    fig = training.plot_history({"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2.0], "perplexity": [9, 5, 3]},
                                metrics=("loss", "perplexity"))
    axes = fig.axes
    assert len(axes) == 2
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 1
