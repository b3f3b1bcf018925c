"""Training helpers shared by the lessons that train a model (02, 03, 05).

* :func:`resumable` - Keras' ``BackupAndRestore``, on Google Drive when it is
  mounted, so a Colab disconnect loses at most the epoch in progress; rerunning
  the training cell resumes at the next epoch.
* :class:`EpochLog` - every epoch's logs next to that backup, so the curve of a
  resumed run still starts at epoch 1 (Keras' ``History`` only knows the epochs
  of the current ``fit`` call).
* :class:`SampleTable` - after each epoch, one sample per temperature, shown as a
  compact table instead of a wall of text.
* :func:`plot_history` - the training curves at the end.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Sequence

import keras

from textgen_utils.cache import write_json_atomic
from textgen_utils.runtime import get_mode

CHECKPOINT_VARIABLE = "TEXTGEN_CHECKPOINT_DIR"
DRIVE = Path("/content/drive/MyDrive")


def checkpoint_root() -> Path:
    """Where training backups go: ``$TEXTGEN_CHECKPOINT_DIR``, else Google Drive, else ``~/.keras``.

    Smoke and full runs use separate folders, so a smoke run never resumes a real one.
    """
    if os.environ.get(CHECKPOINT_VARIABLE):
        base = Path(os.environ[CHECKPOINT_VARIABLE]).expanduser()
    elif DRIVE.is_dir():
        base = DRIVE / "textgen-course" / "checkpoints"
    else:
        base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "textgen-checkpoints"
    return base / get_mode()


def backup_dir(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the training run ``name`` keeps its backup: ``directory``, or a folder under :func:`checkpoint_root`."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"checkpoint name must be letters, digits, '_', '-' or '.': {name!r}")
    return Path(directory) if directory is not None else checkpoint_root() / name


def resumable(name: str, directory: str | os.PathLike | None = None) -> list:
    """Callbacks that back training up after every epoch and resume it on rerun.

    Pass them to ``model.fit(..., callbacks=resumable("02_char_lstm"))``. When a
    run finishes, Keras deletes the backup, so the next run starts fresh.
    """
    backup = backup_dir(name, directory)
    backup.mkdir(parents=True, exist_ok=True)
    return [keras.callbacks.BackupAndRestore(str(backup), save_freq="epoch", delete_checkpoint=True)]


EPOCH_LOG = "epoch_log.json"


class EpochLog(keras.callbacks.Callback):
    """Per-epoch logs of a resumable training run; ``history`` maps a metric to its values by epoch.

    Use the same ``name`` (or ``directory``) as :func:`resumable`.
    ``plot_history(log)`` draws the whole run, resumed or not.
    """

    def __init__(self, name: str, directory: str | os.PathLike | None = None):
        super().__init__()
        self.path = backup_dir(name, directory) / EPOCH_LOG
        self.epochs: dict[int, dict] = {}

    def on_train_begin(self, logs=None):
        self.epochs = {}
        if self.path.is_file():  # an interrupted run left its epochs behind: training resumes
            try:
                self.epochs = {int(k): v for k, v in json.loads(self.path.read_text()).items()}
            except (ValueError, AttributeError):
                self.epochs = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[int(epoch)] = {k: float(v) for k, v in (logs or {}).items()}
        # drop epochs after this one: they belonged to an abandoned run
        self.epochs = {e: v for e, v in self.epochs.items() if e <= epoch}
        write_json_atomic(self.path, self.epochs)  # a disconnect never leaves half a file

    def on_train_end(self, logs=None):
        self.path.unlink(missing_ok=True)

    @property
    def history(self) -> dict[str, list[float]]:
        """Metric -> values for epochs 1, 2, ... (the shape of ``keras.callbacks.History.history``)."""
        ordered = [self.epochs[e] for e in sorted(self.epochs)]
        metrics = dict.fromkeys(k for logs in ordered for k in logs)
        return {m: [logs.get(m, float("nan")) for logs in ordered] for m in metrics}


def _show(frame) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(frame)
            return
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        pass
    print(frame.to_string(index=False))


class SampleTable(keras.callbacks.Callback):
    """After every ``every`` epochs, call ``generate(temperature) -> str`` per temperature.

    The samples of the epoch are shown as one table (temperature -> sample) and
    kept in ``self.rows`` (epoch, temperature, sample) for later comparison.
    """

    def __init__(self, generate: Callable[[float], str], temperatures: Sequence[float] = (0.2, 0.5, 1.0),
                 every: int = 1, width: int = 160):
        super().__init__()
        self.generate = generate
        self.temperatures = list(temperatures)
        self.every = every
        self.width = width
        self.rows: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        import pandas as pd

        rows = []
        for t in self.temperatures:
            text = " ".join(self.generate(t).split())  # one line per sample
            rows.append({"epoch": epoch + 1, "temperature": t, "sample": text})
        self.rows.extend(rows)
        frame = pd.DataFrame(rows)[["temperature", "sample"]]
        frame["sample"] = frame["sample"].str.slice(0, self.width)
        loss = f" - loss {logs['loss']:.4f}" if logs and "loss" in logs else ""
        print(f"epoch {epoch + 1}{loss}")
        with pd.option_context("display.max_colwidth", self.width):
            _show(frame)

    def table(self):
        """All samples so far as a DataFrame: one row per epoch, one column per temperature."""
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        return frame.pivot(index="epoch", columns="temperature", values="sample") if len(frame) else frame


def plot_history(history, metrics: Sequence[str] = ("loss",), title: str | None = None):
    """Plot training (and validation, when present) curves from a Keras ``History``."""
    import matplotlib.pyplot as plt

    logs = history.history if hasattr(history, "history") else history
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        epochs = range(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label=f"훈련 / train {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label=f"검증 / validation {metric}")
        ax.set_xlabel("에포크 / epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
